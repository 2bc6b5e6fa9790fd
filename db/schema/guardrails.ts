import {
  bigserial,
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";
import { agents, projects, user } from "./identity";
import { goals, plans, tasks } from "./orchestration";

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

// Spending limits per period. A budget attaches to the project, one goal or
// one agent, counts dollars or tokens, and resets at the start of each day,
// week (Monday) or month in the project's time zone, or never ("total").
// Reaching soft_percent of the limit raises an alert; reaching the limit
// refuses claims and tool use in its scope.
export const budgets = pgTable(
  "budgets",
  {
    id: uuid("id").primaryKey(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    // project | goal | agent
    scope: text("scope").notNull(),
    goalId: uuid("goal_id").references(() => goals.id, {
      onDelete: "cascade",
    }),
    agentId: uuid("agent_id").references(() => agents.id, {
      onDelete: "cascade",
    }),
    // usd | tokens
    unit: text("unit").notNull(),
    // day | week | month | total
    period: text("period").notNull(),
    limitAmount: numeric("limit_amount", { precision: 18, scale: 4 }).notNull(),
    // Alert when spend in the period reaches this percentage; null: no alert.
    softPercent: integer("soft_percent"),
    createdBy: text("created_by"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("budgets_project_idx").on(t.projectId)],
);

// One row per alert raised for a budget in one period, so each threshold
// alerts once per period. level: soft | hard
export const budgetAlerts = pgTable(
  "budget_alerts",
  {
    budgetId: uuid("budget_id")
      .notNull()
      .references(() => budgets.id, { onDelete: "cascade" }),
    periodStart: timestamp("period_start", { withTimezone: true }).notNull(),
    level: text("level").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.budgetId, t.periodStart, t.level] })],
);

// Everything that waits on a person: a plan to review, a tool call an "ask"
// rule holds, a budget increase an agent requested. The decision reaches
// the agent on its next call (delivered_at records that it did).
export const approvals = pgTable(
  "approvals",
  {
    id: uuid("id").primaryKey(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    // plan | tool | budget_increase
    kind: text("kind").notNull(),
    // pending | approved | denied | expired | cancelled
    status: text("status").notNull().default("pending"),
    // operator | admin: the least role that may decide.
    requiredRole: text("required_role").notNull().default("operator"),
    title: text("title").notNull(),
    // Why a person is asked (the rule, the threshold).
    reason: text("reason").notNull().default(""),
    // What is asked: the tool and its input, the amount, the plan summary.
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    agentId: uuid("agent_id").references(() => agents.id, {
      onDelete: "set null",
    }),
    sessionId: text("session_id"),
    goalId: uuid("goal_id").references(() => goals.id, {
      onDelete: "cascade",
    }),
    taskId: uuid("task_id").references(() => tasks.id, {
      onDelete: "set null",
    }),
    planId: uuid("plan_id").references(() => plans.id, {
      onDelete: "cascade",
    }),
    // The same request asked twice while pending is one approval.
    dedupeKey: text("dedupe_key"),
    requestedAt: timestamp("requested_at", { withTimezone: true }).notNull(),
    // A pending approval past this time is expired, which denies it.
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    decidedAt: timestamp("decided_at", { withTimezone: true }),
    decidedBy: text("decided_by"),
    decidedByLabel: text("decided_by_label"),
    comment: text("comment"),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
  },
  (t) => [
    index("approvals_project_status_idx").on(
      t.projectId,
      t.status,
      t.requestedAt,
    ),
    index("approvals_agent_idx").on(t.agentId, t.status),
    uniqueIndex("approvals_pending_dedupe_uq")
      .on(t.projectId, t.dedupeKey)
      .where(sql`status = 'pending' and dedupe_key is not null`),
  ],
);

// In-app notifications. Each has at least one recipient: the project's
// admins and operators, else the instance admins, else every user.
export const notifications = pgTable(
  "notifications",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    // budget_threshold | budget_exhausted | red_flag | task_failing |
    // lease_expiring | approval_waiting
    kind: text("kind").notNull(),
    // info | warning | critical
    severity: text("severity").notNull(),
    title: text("title").notNull(),
    body: text("body").notNull().default(""),
    // A console path to act on it, e.g. /projects/acme/approvals.
    link: text("link"),
    details: jsonb("details").$type<Record<string, unknown>>(),
    // The same event notifies once (e.g. "budget:<id>:<period>:soft").
    dedupeKey: text("dedupe_key"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    index("notifications_project_idx").on(t.projectId, t.createdAt),
    uniqueIndex("notifications_dedupe_uq").on(t.projectId, t.dedupeKey),
  ],
);

export const notificationRecipients = pgTable(
  "notification_recipients",
  {
    notificationId: bigint("notification_id", { mode: "number" })
      .notNull()
      .references(() => notifications.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    readAt: timestamp("read_at", { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.notificationId, t.userId] }),
    index("notification_recipients_user_idx").on(t.userId, t.readAt),
  ],
);

// Outbound webhooks: each notification of a subscribed kind is POSTed to
// the URL, signed with HMAC-SHA256 of the body under the secret.
export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: uuid("id").primaryKey(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    secret: text("secret").notNull(),
    // Notification kinds to send; empty means all.
    kinds: text("kinds").array().notNull().default([]),
    active: boolean("active").notNull().default(true),
    createdBy: text("created_by"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("webhook_endpoints_project_idx").on(t.projectId)],
);

// One delivery of one notification to one endpoint, retried with backoff
// until it succeeds or runs out of attempts (status "dead": the dead-letter
// list in the console, from which an operator can retry it).
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    endpointId: uuid("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    notificationId: bigint("notification_id", { mode: "number" })
      .notNull()
      .references(() => notifications.id, { onDelete: "cascade" }),
    // pending | delivered | dead
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", {
      withTimezone: true,
    }).notNull(),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    index("webhook_deliveries_due_idx").on(t.status, t.nextAttemptAt),
    uniqueIndex("webhook_deliveries_uq").on(t.endpointId, t.notificationId),
  ],
);
