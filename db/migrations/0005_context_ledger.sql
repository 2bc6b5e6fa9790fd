CREATE TABLE "context_eval_runs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid,
	"cases" integer NOT NULL,
	"hit_at_1" real NOT NULL,
	"must_contain_rate" real NOT NULL,
	"results" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "context_settings" (
	"project_id" uuid PRIMARY KEY NOT NULL,
	"stale_after_days" integer,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "context_documents" ADD COLUMN "modified_by" text;--> statement-breakpoint
ALTER TABLE "context_documents" ADD COLUMN "modified_source" text;--> statement-breakpoint
ALTER TABLE "context_lookups" ADD COLUMN "top3_tokens" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "context_lookups" ADD COLUMN "tier" text DEFAULT 'section' NOT NULL;--> statement-breakpoint
ALTER TABLE "context_lookups" ADD COLUMN "served_status" text;--> statement-breakpoint
ALTER TABLE "context_eval_runs" ADD CONSTRAINT "context_eval_runs_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "context_settings" ADD CONSTRAINT "context_settings_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "context_eval_runs_project_idx" ON "context_eval_runs" USING btree ("project_id","created_at");