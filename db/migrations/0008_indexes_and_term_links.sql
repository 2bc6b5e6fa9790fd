CREATE TABLE "context_term_links" (
	"project_id" uuid NOT NULL,
	"source" text NOT NULL,
	"term" text NOT NULL,
	"related" text NOT NULL,
	"weight" real NOT NULL,
	"sections" integer NOT NULL,
	CONSTRAINT "context_term_links_project_id_source_term_related_pk" PRIMARY KEY("project_id","source","term","related")
);
--> statement-breakpoint
ALTER TABLE "context_term_links" ADD CONSTRAINT "context_term_links_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "context_term_links_related_idx" ON "context_term_links" USING btree ("project_id","related");--> statement-breakpoint
CREATE INDEX "events_span_idx" ON "events" USING btree ("session_id","span_id");--> statement-breakpoint
CREATE INDEX "spend_hourly_task_idx" ON "spend_hourly" USING btree ("project_id","task_id");--> statement-breakpoint
CREATE INDEX "spend_hourly_goal_idx" ON "spend_hourly" USING btree ("project_id","goal_id","hour");