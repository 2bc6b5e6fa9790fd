ALTER TABLE "event_keys" DROP CONSTRAINT "event_keys_project_id_projects_id_fk";
--> statement-breakpoint
ALTER TABLE "event_keys" DROP CONSTRAINT "event_keys_agent_id_agents_id_fk";
--> statement-breakpoint
ALTER TABLE "events" DROP CONSTRAINT "events_project_id_projects_id_fk";
--> statement-breakpoint
ALTER TABLE "events" DROP CONSTRAINT "events_session_id_agent_sessions_id_fk";
--> statement-breakpoint
ALTER TABLE "events" DROP CONSTRAINT "events_agent_id_agents_id_fk";
--> statement-breakpoint
ALTER TABLE "events" DROP CONSTRAINT "events_task_id_tasks_id_fk";
--> statement-breakpoint
ALTER TABLE "events" DROP CONSTRAINT "events_goal_id_goals_id_fk";
