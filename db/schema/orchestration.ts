import {
  bigint,
  index,
  integer,
  numeric,
  pgTable,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";
import { agents, projects } from "./identity";

export const goals = pgTable(
  "goals",
  {
    id: uuid("id").primaryKey(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    description: text("description").notNull().default(""),
    // A hard limit: once spend reaches it, claims of the goal's tasks are
    // refused. Null means no budget.
    budgetUsd: numeric("budget_usd", { precision: 14, scale: 4 }),
    status: text("status").notNull().default("active"),
    createdBy: text("created_by"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("goals_project_idx").on(t.projectId)],
);

export const tasks = pgTable(
  "tasks",
  {
    id: uuid("id").primaryKey(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    goalId: uuid("goal_id")
      .notNull()
      .references(() => goals.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    description: text("description").notNull().default(""),
    priority: integer("priority").notNull().default(0),
    // File scope as path globs, e.g. ["src/api/**", "docs/api.md"].
    scope: text("scope").array().notNull().default([]),
    estimateUsd: numeric("estimate_usd", { precision: 14, scale: 4 }),
    status: text("status").notNull().default("ready"),
    holderAgentId: uuid("holder_agent_id").references(() => agents.id, {
      onDelete: "set null",
    }),
    leaseId: uuid("lease_id"),
    leaseExpiresAt: timestamp("lease_expires_at", { withTimezone: true }),
    // Grows by one on every claim; a write carrying an older value is stale.
    leaseVersion: bigint("lease_version", { mode: "number" })
      .notNull()
      .default(0),
    attempts: integer("attempts").notNull().default(0),
    result: text("result"),
    createdBy: text("created_by"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
    completedAt: timestamp("completed_at", { withTimezone: true }),
  },
  (t) => [
    index("tasks_project_status_idx").on(t.projectId, t.status, t.priority),
    index("tasks_goal_idx").on(t.goalId),
    index("tasks_holder_idx").on(t.holderAgentId),
  ],
);
