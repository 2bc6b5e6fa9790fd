-- The words inside the text's identifiers, each identifier once:
-- "@vercel/otel" gives "vercel otel", "useReportWebVitals" gives "use
-- Report Web Vitals", "NextRequest" gives "Next Request", "next.config.js"
-- gives "next config js". Plain and hyphenated words and all-capital
-- names are left out: the parser already indexes them. So a
-- question that spells an identifier out as words finds its section.
CREATE OR REPLACE FUNCTION context_identifier_parts(t text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT coalesce((SELECT string_agg(regexp_replace(translate(m[1], '/._-@', '     '), '([a-z0-9])([A-Z])', '\1 \2', 'g'), ' ') FROM regexp_matches(coalesce(t, ''), '(\m[[:alnum:]]+(?:[/._@][[:alnum:]-]+)+|\m[[:alpha:]][[:lower:][:digit:]]+[[:upper:]][[:alnum:]]*)', 'g') AS m), '') $$;--> statement-breakpoint
ALTER TABLE "context_sections" drop column "search";--> statement-breakpoint
ALTER TABLE "context_sections" ADD COLUMN "search" "tsvector" GENERATED ALWAYS AS (setweight(to_tsvector('english', coalesce("heading_path", '')), 'A') || setweight(to_tsvector('english', context_identifier_parts("heading_path")), 'A') || setweight(to_tsvector('english', coalesce("body", '')), 'B') || setweight(to_tsvector('english', context_identifier_parts("body")), 'B')) STORED;--> statement-breakpoint
CREATE INDEX "context_sections_search_idx" ON "context_sections" USING gin ("search") WITH (gin_pending_list_limit = 256);
