CREATE TABLE "directives" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"body" text NOT NULL,
	"priority" text DEFAULT 'normal' NOT NULL,
	"expires_at" timestamp with time zone,
	"created_by_id" text,
	"created_by_label" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"delivered_at" timestamp with time zone,
	"acknowledged_at" timestamp with time zone,
	"acknowledgement" text,
	"cancelled_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "escalation_recipients" (
	"escalation_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"read_at" timestamp with time zone,
	CONSTRAINT "escalation_recipients_escalation_id_user_id_pk" PRIMARY KEY("escalation_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "escalations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"task_id" uuid,
	"conflict_task_id" uuid,
	"path" text,
	"reason" text NOT NULL,
	"raised_by_type" text NOT NULL,
	"raised_by_id" text,
	"raised_by_label" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"resolution" text,
	"resolution_note" text,
	"resolved_by_label" text,
	"resolved_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "reservations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"globs" text[] NOT NULL,
	"roots" text[] NOT NULL,
	"mode" text NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"ttl_seconds" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"released_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "capabilities" text[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "last_seen_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "orchestration_settings" ADD COLUMN "default_lease_seconds" integer DEFAULT 300 NOT NULL;--> statement-breakpoint
ALTER TABLE "orchestration_settings" ADD COLUMN "max_lease_seconds" integer DEFAULT 3600 NOT NULL;--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "decision_delivered_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "scope_roots" text[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "directives" ADD CONSTRAINT "directives_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "directives" ADD CONSTRAINT "directives_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "escalation_recipients" ADD CONSTRAINT "escalation_recipients_escalation_id_escalations_id_fk" FOREIGN KEY ("escalation_id") REFERENCES "public"."escalations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "escalations" ADD CONSTRAINT "escalations_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "escalations" ADD CONSTRAINT "escalations_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "escalations" ADD CONSTRAINT "escalations_conflict_task_id_tasks_id_fk" FOREIGN KEY ("conflict_task_id") REFERENCES "public"."tasks"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "directives_agent_idx" ON "directives" USING btree ("agent_id","created_at");--> statement-breakpoint
CREATE INDEX "escalation_recipients_user_idx" ON "escalation_recipients" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "escalations_project_status_idx" ON "escalations" USING btree ("project_id","status");--> statement-breakpoint
CREATE INDEX "escalations_task_idx" ON "escalations" USING btree ("task_id");--> statement-breakpoint
CREATE INDEX "reservations_project_idx" ON "reservations" USING btree ("project_id","expires_at");--> statement-breakpoint
CREATE INDEX "reservations_agent_idx" ON "reservations" USING btree ("agent_id");--> statement-breakpoint
-- Existing tasks get the roots of their scopes, computed as
-- server/orchestration/scopes.ts does: the path up to the first segment
-- with a wildcard, without leading "./" or "/" or a trailing "/".
UPDATE "tasks" SET "scope_roots" = ARRAY(
	SELECT rtrim(regexp_replace(regexp_replace(s, '^(\./|/)+', ''), '(^|/)[^/]*[*?\[{].*$', ''), '/')
	FROM unnest("scope") AS s
);
