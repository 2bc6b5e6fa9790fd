import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  primaryKey,
  numeric,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { agents, projects, user } from "./identity";

/** One line of a goal's success criteria, ticked off by an operator. */
export interface SuccessCriterion {
  text: string;
  done: boolean;
}

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
    // The same limit counted in tokens (input + output + cache) instead of
    // dollars. Null means none.
    budgetTokens: bigint("budget_tokens", { mode: "number" }),
    // draft | active | paused | done; a draft goal's tasks are not claimed.
    status: text("status").notNull().default("active"),
    successCriteria: jsonb("success_criteria")
      .$type<SuccessCriterion[]>()
      .notNull()
      .default([]),
    ownerUserId: text("owner_user_id").references(() => user.id, {
      onDelete: "set null",
    }),
    // Higher first, like task priority.
    priority: integer("priority").notNull().default(0),
    dueAt: timestamp("due_at", { withTimezone: true }),
    // At most this many of the goal's tasks held by agents at once; null
    // means no limit.
    maxActiveTasks: integer("max_active_tasks"),
    // When false, a submitted plan is approved at once.
    requiresPlanApproval: boolean("requires_plan_approval")
      .notNull()
      .default(true),
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
    // The fixed directory part of each scope glob (see
    // server/orchestration/scopes.ts); claims compare these to keep two
    // agents out of the same files.
    scopeRoots: text("scope_roots").array().notNull().default([]),
    acceptanceCriteria: text("acceptance_criteria").notNull().default(""),
    // Capability tags an agent needs to take the task, e.g. ["typescript"].
    capabilities: text("capabilities").array().notNull().default([]),
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
    // Claims so far; the lease sweeper fails the task once the project's
    // maximum is used up.
    attempts: integer("attempts").notNull().default(0),
    result: text("result"),
    createdBy: text("created_by"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
    completedAt: timestamp("completed_at", { withTimezone: true }),
  },
  (t) => [
    index("tasks_project_status_idx").on(t.projectId, t.status, t.priority),
    // The order claims take tasks in: a claim walks it and stops at the
    // first free ones.
    index("tasks_claim_order_idx").on(
      t.projectId,
      t.status,
      t.priority.desc(),
      t.createdAt,
      t.id,
    ),
    index("tasks_goal_idx").on(t.goalId),
    index("tasks_holder_idx").on(t.holderAgentId),
  ],
);

// One row per claim: which agent held which task, from when until when.
// Spend an agent reports is attributed to the task it held at that moment,
// so the history is kept, not only the current holder on `tasks`.
export const taskLeases = pgTable(
  "task_leases",
  {
    leaseId: uuid("lease_id").primaryKey(),
    taskId: uuid("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    agentId: uuid("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    claimedAt: timestamp("claimed_at", { withTimezone: true }).notNull(),
    // Moves forward with every heartbeat; a lease that was never ended
    // stopped counting at this moment.
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    ttlSeconds: integer("ttl_seconds").notNull(),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    // completed | failed | released | expired | cancelled
    endReason: text("end_reason"),
  },
  (t) => [
    index("task_leases_agent_idx").on(t.agentId, t.claimedAt),
    index("task_leases_task_idx").on(t.taskId),
  ],
);

// Append-only: one row per status change of a task, written in the same
// transaction as the change (see server/orchestration/states.ts).
export const taskTransitions = pgTable(
  "task_transitions",
  {
    // Ascending in the order the changes were written.
    id: bigserial("id", { mode: "number" }).primaryKey(),
    taskId: uuid("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    fromStatus: text("from_status"),
    toStatus: text("to_status").notNull(),
    // agent | operator | system
    actorType: text("actor_type").notNull(),
    actorId: text("actor_id"),
    actorLabel: text("actor_label").notNull(),
    reason: text("reason"),
    at: timestamp("at", { withTimezone: true }).notNull(),
  },
  (t) => [index("task_transitions_task_idx").on(t.taskId, t.at)],
);

// Task A depends on task B (same goal): A is not claimable until B is done.
export const taskDependencies = pgTable(
  "task_dependencies",
  {
    taskId: uuid("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    dependsOnId: uuid("depends_on_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
  },
  (t) => [
    primaryKey({ columns: [t.taskId, t.dependsOnId] }),
    index("task_dependencies_depends_on_idx").on(t.dependsOnId),
  ],
);

// Per-project orchestration settings; a project without a row uses the
// defaults (server/orchestration/settings.ts).
export const orchestrationSettings = pgTable("orchestration_settings", {
  projectId: uuid("project_id")
    .primaryKey()
    .references(() => projects.id, { onDelete: "cascade" }),
  maxAttempts: integer("max_attempts").notNull().default(3),
  // Lease length when a claim names none, and the longest a claim or a
  // heartbeat may ask for.
  defaultLeaseSeconds: integer("default_lease_seconds").notNull().default(300),
  maxLeaseSeconds: integer("max_lease_seconds").notNull().default(3600),
  // How many tasks one agent may hold at once, unless the agent has its own
  // limit (agents.max_active_tasks); null means no limit.
  maxActivePerAgent: integer("max_active_per_agent"),
  // Plans estimated above this many dollars, or touching a protected path,
  // need an admin's approval rather than an operator's. Null: no threshold.
  adminApprovalAboveUsd: numeric("admin_approval_above_usd", {
    precision: 14,
    scale: 4,
  }),
  protectedPaths: text("protected_paths").array().notNull().default([]),
  // How long an "ask" decision waits for a person before it is denied.
  askTimeoutSeconds: integer("ask_timeout_seconds").notNull().default(600),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
});

// A proposed breakdown of a goal into tasks. Each submission for a goal is a
// new version; nothing of a plan becomes a task until it is approved.
export const plans = pgTable(
  "plans",
  {
    id: uuid("id").primaryKey(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    goalId: uuid("goal_id")
      .notNull()
      .references(() => goals.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    // submitted | approved | rejected | changes_requested
    status: text("status").notNull(),
    // agent | user | cli
    authorType: text("author_type").notNull(),
    authorId: text("author_id"),
    authorLabel: text("author_label").notNull(),
    // What the author says about the plan as a whole.
    note: text("note").notNull().default(""),
    reviewerLabel: text("reviewer_label"),
    reviewComment: text("review_comment"),
    reviewedAt: timestamp("reviewed_at", { withTimezone: true }),
    // When the authoring agent was told of the review (heartbeat or plan
    // read); null while the decision is still news to it.
    decisionDeliveredAt: timestamp("decision_delivered_at", {
      withTimezone: true,
    }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [uniqueIndex("plans_goal_version_idx").on(t.goalId, t.version)],
);

// The tasks a plan proposes, in the author's order. `dependsOn` holds keys
// of other tasks of the same plan; `createdTaskId` is set on approval.
export const planTasks = pgTable(
  "plan_tasks",
  {
    planId: uuid("plan_id")
      .notNull()
      .references(() => plans.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    key: text("key").notNull(),
    title: text("title").notNull(),
    description: text("description").notNull().default(""),
    acceptanceCriteria: text("acceptance_criteria").notNull().default(""),
    scope: text("scope").array().notNull(),
    dependsOn: text("depends_on").array().notNull().default([]),
    priority: integer("priority").notNull().default(0),
    estimateUsd: numeric("estimate_usd", { precision: 14, scale: 4 }),
    capabilities: text("capabilities").array().notNull().default([]),
    createdTaskId: uuid("created_task_id").references(() => tasks.id, {
      onDelete: "set null",
    }),
  },
  (t) => [primaryKey({ columns: [t.planId, t.position] })],
);

// Ad-hoc holds on paths outside a task: an agent reserves globs before an
// edit so no other agent claims or edits the same files meanwhile.
export const reservations = pgTable(
  "reservations",
  {
    id: uuid("id").primaryKey(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    agentId: uuid("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    globs: text("globs").array().notNull(),
    roots: text("roots").array().notNull(),
    // exclusive | shared: shared reservations coexist with each other.
    mode: text("mode").notNull(),
    reason: text("reason").notNull().default(""),
    ttlSeconds: integer("ttl_seconds").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    releasedAt: timestamp("released_at", { withTimezone: true }),
  },
  (t) => [
    index("reservations_project_idx").on(t.projectId, t.expiresAt),
    index("reservations_agent_idx").on(t.agentId),
  ],
);

// Things an operator must settle: a task blocked by a conflict, a task that
// used up its attempts, a lease that keeps lapsing. Open until resolved.
export const escalations = pgTable(
  "escalations",
  {
    id: uuid("id").primaryKey(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    // blocked | scope_conflict | max_attempts | lease_expired
    kind: text("kind").notNull(),
    // open | resolved
    status: text("status").notNull().default("open"),
    taskId: uuid("task_id").references(() => tasks.id, {
      onDelete: "set null",
    }),
    conflictTaskId: uuid("conflict_task_id").references(() => tasks.id, {
      onDelete: "set null",
    }),
    path: text("path"),
    reason: text("reason").notNull(),
    raisedByType: text("raised_by_type").notNull(),
    raisedById: text("raised_by_id"),
    raisedByLabel: text("raised_by_label").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    // reassigned | scopes_merged | cancelled | unblocked | dismissed
    resolution: text("resolution"),
    resolutionNote: text("resolution_note"),
    resolvedByLabel: text("resolved_by_label"),
    resolvedAt: timestamp("resolved_at", { withTimezone: true }),
  },
  (t) => [
    index("escalations_project_status_idx").on(t.projectId, t.status),
    index("escalations_task_idx").on(t.taskId),
  ],
);

// Who an escalation was sent to; never empty (see
// server/orchestration/escalations.ts for how recipients are chosen).
export const escalationRecipients = pgTable(
  "escalation_recipients",
  {
    escalationId: uuid("escalation_id")
      .notNull()
      .references(() => escalations.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull(),
    readAt: timestamp("read_at", { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.escalationId, t.userId] }),
    index("escalation_recipients_user_idx").on(t.userId),
  ],
);

// An operator's instruction to one agent. Delivered in the agent's next
// heartbeat or claim, then acknowledged by the agent.
export const directives = pgTable(
  "directives",
  {
    id: uuid("id").primaryKey(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    agentId: uuid("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    body: text("body").notNull(),
    // low | normal | high | urgent
    priority: text("priority").notNull().default("normal"),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    createdById: text("created_by_id"),
    createdByLabel: text("created_by_label").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
    acknowledgedAt: timestamp("acknowledged_at", { withTimezone: true }),
    acknowledgement: text("acknowledgement"),
    cancelledAt: timestamp("cancelled_at", { withTimezone: true }),
  },
  (t) => [index("directives_agent_idx").on(t.agentId, t.createdAt)],
);
