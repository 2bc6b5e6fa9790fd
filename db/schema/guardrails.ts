import { index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { agents, projects } from "./identity";
import { goals } from "./orchestration";

// Tool, command and path rules an admin sets for a project, one of its
// goals or one of its agents. The policy module (server/guardrails/policy.ts)
// reads them on every PreToolUse decision.
export const guardrailRules = pgTable(
  "guardrail_rules",
  {
    id: uuid("id").primaryKey(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    // project | goal | agent: the narrower scope wins where rules conflict.
    scope: text("scope").notNull(),
    goalId: uuid("goal_id").references(() => goals.id, {
      onDelete: "cascade",
    }),
    agentId: uuid("agent_id").references(() => agents.id, {
      onDelete: "cascade",
    }),
    // tool | command | path
    kind: text("kind").notNull(),
    // Glob on the tool name ("Bash", "mcp__*", "*").
    tool: text("tool").notNull(),
    // The command pattern (command rules) or the path glob (path rules).
    pattern: text("pattern"),
    // allow | deny | ask
    decision: text("decision").notNull(),
    reason: text("reason").notNull().default(""),
    createdBy: text("created_by"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("guardrail_rules_project_idx").on(t.projectId)],
);

// The project kill switch: a row means the project is paused, and every
// claim and tool decision in it is refused with the reason until resumed.
export const projectPauses = pgTable("project_pauses", {
  projectId: uuid("project_id")
    .primaryKey()
    .references(() => projects.id, { onDelete: "cascade" }),
  reason: text("reason").notNull(),
  pausedBy: text("paused_by").notNull(),
  pausedAt: timestamp("paused_at", { withTimezone: true }).notNull(),
});
