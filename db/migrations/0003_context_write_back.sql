CREATE TABLE "context_document_versions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"document_id" uuid NOT NULL,
	"number" integer NOT NULL,
	"change" text NOT NULL,
	"heading" text,
	"title" text NOT NULL,
	"content" text NOT NULL,
	"content_hash" text NOT NULL,
	"tokens" integer NOT NULL,
	"agent_id" uuid,
	"actor_label" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "context_documents" ADD COLUMN "topic" text;--> statement-breakpoint
ALTER TABLE "context_documents" ADD COLUMN "kind" text;--> statement-breakpoint
ALTER TABLE "context_documents" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "context_document_versions" ADD CONSTRAINT "context_document_versions_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "context_document_versions" ADD CONSTRAINT "context_document_versions_document_id_context_documents_id_fk" FOREIGN KEY ("document_id") REFERENCES "public"."context_documents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "context_document_versions" ADD CONSTRAINT "context_document_versions_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "context_document_versions_uq" ON "context_document_versions" USING btree ("document_id","number");--> statement-breakpoint
CREATE UNIQUE INDEX "context_documents_topic_uq" ON "context_documents" USING btree ("project_id","topic") WHERE "context_documents"."topic" is not null and "context_documents"."status" = 'canonical' and "context_documents"."deleted_at" is null;