-- Event keys become each agent's own. Existing keys take the agent of the
-- event they stored; a key whose event retention already removed has no
-- agent to take and is dropped (a replay of such an event would be stored
-- again).
ALTER TABLE "event_keys" ADD COLUMN "agent_id" uuid;--> statement-breakpoint
UPDATE "event_keys" AS k SET "agent_id" = e."agent_id"
  FROM "events" AS e WHERE e."id" = k."event_id" AND e."occurred_at" = k."occurred_at";--> statement-breakpoint
DELETE FROM "event_keys" WHERE "agent_id" IS NULL;--> statement-breakpoint
ALTER TABLE "event_keys" ALTER COLUMN "agent_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "event_keys" DROP CONSTRAINT "event_keys_project_id_event_key_pk";--> statement-breakpoint
ALTER TABLE "event_keys" ADD CONSTRAINT "event_keys_project_id_agent_id_event_key_pk" PRIMARY KEY("project_id","agent_id","event_key");--> statement-breakpoint
ALTER TABLE "event_keys" ADD CONSTRAINT "event_keys_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;
