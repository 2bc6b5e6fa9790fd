-- Ranking reads each candidate's heading words, its document's path words
-- and whether it holds text; stored once per row here, not computed again
-- on every lookup.
ALTER TABLE "context_documents" ADD COLUMN "path_search" "tsvector" GENERATED ALWAYS AS (to_tsvector('english', regexp_replace(translate("path", '/._-', '    '), '([a-z0-9])([A-Z])', '\1 \2', 'g'))) STORED;--> statement-breakpoint
ALTER TABLE "context_sections" ADD COLUMN "heading_search" "tsvector" GENERATED ALWAYS AS (to_tsvector('english', "heading") || to_tsvector('english', context_identifier_parts("heading"))) STORED;--> statement-breakpoint
ALTER TABLE "context_sections" ADD COLUMN "has_text" boolean GENERATED ALWAYS AS ("level" = 0 or "body" ~ '\n\s*\S') STORED;