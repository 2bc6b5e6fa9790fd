CREATE TABLE "event_keys" (
	"project_id" uuid NOT NULL,
	"event_key" text NOT NULL,
	"event_id" uuid NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	CONSTRAINT "event_keys_project_id_event_key_pk" PRIMARY KEY("project_id","event_key")
);
--> statement-breakpoint
CREATE TABLE "flag_rules" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"pattern" text NOT NULL,
	"severity" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "observability_settings" (
	"project_id" uuid PRIMARY KEY NOT NULL,
	"event_retention_days" integer DEFAULT 180 NOT NULL,
	"rollup_retention_days" integer DEFAULT 1095 NOT NULL,
	"updated_by" text,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "price_overrides" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"pattern" text NOT NULL,
	"label" text,
	"input_usd" numeric(14, 6) NOT NULL,
	"output_usd" numeric(14, 6) NOT NULL,
	"cache_read_usd" numeric(14, 6) NOT NULL,
	"cache_write_5m_usd" numeric(14, 6) NOT NULL,
	"cache_write_1h_usd" numeric(14, 6) NOT NULL,
	"effective_from" timestamp with time zone NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "event_flags" DROP CONSTRAINT "event_flags_event_id_events_id_fk";--> statement-breakpoint
-- Raw events become a table partitioned by month of occurred_at. The old
-- table's rows move over; idempotency moves to event_keys, since a unique
-- index on a partitioned table must hold the partition key.
ALTER TABLE "events" RENAME TO "events_unpartitioned";--> statement-breakpoint
ALTER INDEX "events_session_idx" RENAME TO "events_unpartitioned_session_idx";--> statement-breakpoint
ALTER INDEX "events_project_time_idx" RENAME TO "events_unpartitioned_project_time_idx";--> statement-breakpoint
ALTER INDEX "events_goal_idx" RENAME TO "events_unpartitioned_goal_idx";--> statement-breakpoint
ALTER INDEX "events_task_idx" RENAME TO "events_unpartitioned_task_idx";--> statement-breakpoint
CREATE TABLE "events" (LIKE "events_unpartitioned" INCLUDING DEFAULTS) PARTITION BY RANGE ("occurred_at");--> statement-breakpoint
DO $$
DECLARE
  month timestamptz;
BEGIN
  FOR month IN
    SELECT DISTINCT date_trunc('month', "occurred_at" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
    FROM "events_unpartitioned"
  LOOP
    EXECUTE format(
      'CREATE TABLE %I PARTITION OF "events" FOR VALUES FROM (%L) TO (%L)',
      'events_' || to_char(month AT TIME ZONE 'UTC', 'YYYY_MM'),
      month,
      (month AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC'
    );
  END LOOP;
END
$$;--> statement-breakpoint
INSERT INTO "events" SELECT * FROM "events_unpartitioned";--> statement-breakpoint
INSERT INTO "event_keys" ("project_id", "event_key", "event_id", "occurred_at")
  SELECT "project_id", "event_key", "id", "occurred_at" FROM "events_unpartitioned";--> statement-breakpoint
ALTER TABLE "event_flags" ADD COLUMN "event_occurred_at" timestamp with time zone;--> statement-breakpoint
UPDATE "event_flags" AS f SET "event_occurred_at" = e."occurred_at"
  FROM "events_unpartitioned" AS e WHERE e."id" = f."event_id";--> statement-breakpoint
DELETE FROM "event_flags" WHERE "event_occurred_at" IS NULL;--> statement-breakpoint
ALTER TABLE "event_flags" ALTER COLUMN "event_occurred_at" SET NOT NULL;--> statement-breakpoint
DROP TABLE "events_unpartitioned";--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_id_occurred_at_pk" PRIMARY KEY("id","occurred_at");--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_session_id_agent_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."agent_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_goal_id_goals_id_fk" FOREIGN KEY ("goal_id") REFERENCES "public"."goals"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "events_session_idx" ON "events" USING btree ("session_id","occurred_at");--> statement-breakpoint
CREATE INDEX "events_project_time_idx" ON "events" USING btree ("project_id","occurred_at");--> statement-breakpoint
CREATE INDEX "events_goal_idx" ON "events" USING btree ("goal_id");--> statement-breakpoint
CREATE INDEX "events_task_idx" ON "events" USING btree ("task_id");--> statement-breakpoint
ALTER TABLE "agent_sessions" ADD COLUMN "pruned_through_seq" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "agent_sessions" ADD COLUMN "pruned_chain_hash" text;--> statement-breakpoint
ALTER TABLE "agent_sessions" ADD COLUMN "attempt_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "agent_sessions" ADD COLUMN "landed_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "agent_sessions" ADD COLUMN "high_flag_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "agent_sessions" ADD COLUMN "critical_flag_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "agent_sessions" ADD COLUMN "grade" text;--> statement-breakpoint
ALTER TABLE "agent_sessions" ADD COLUMN "grade_reasons" jsonb;--> statement-breakpoint
ALTER TABLE "event_keys" ADD CONSTRAINT "event_keys_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "flag_rules" ADD CONSTRAINT "flag_rules_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "observability_settings" ADD CONSTRAINT "observability_settings_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "price_overrides" ADD CONSTRAINT "price_overrides_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "event_keys_time_idx" ON "event_keys" USING btree ("occurred_at");--> statement-breakpoint
CREATE UNIQUE INDEX "flag_rules_name_uq" ON "flag_rules" USING btree ("project_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "price_overrides_uq" ON "price_overrides" USING btree ("project_id","pattern","effective_from");--> statement-breakpoint
CREATE INDEX "agent_sessions_grade_idx" ON "agent_sessions" USING btree ("project_id","grade");--> statement-breakpoint
CREATE INDEX "event_flags_time_idx" ON "event_flags" USING btree ("event_occurred_at");--> statement-breakpoint
CREATE INDEX "events_chain_idx" ON "events" USING btree ("session_id","chain_seq");