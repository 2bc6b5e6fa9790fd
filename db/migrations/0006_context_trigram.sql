CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE INDEX "context_sections_heading_trgm_idx" ON "context_sections" USING gin ("heading_path" gin_trgm_ops);--> statement-breakpoint
-- New GIN entries wait in a pending list that every search reads in full
-- until it is merged; at the default 4 MB, indexing a docs folder left
-- thousands of pending entries and doubled lookup time. 256 kB keeps the
-- list short while inserts still merge in batches.
ALTER INDEX "context_sections_search_idx" SET (gin_pending_list_limit = 256);--> statement-breakpoint
ALTER INDEX "context_sections_heading_trgm_idx" SET (gin_pending_list_limit = 256);--> statement-breakpoint
SELECT gin_clean_pending_list('context_sections_search_idx'::regclass);
