import {
  bigint,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { agents, projects } from "./identity";

// jsonb read back as the driver hands it over. Both drivers parse jsonb
// already; drizzle's own jsonb type parses a string value a second time,
// so a tool output of "123" would come back as the number 123 (and its
// event would no longer match its hash-chain link).
const jsonValue = customType<{ data: unknown; driverData: unknown }>({
  dataType: () => "jsonb",
  toDriver: (value) => JSON.stringify(value),
  fromDriver: (value) => value,
});

// One agent session: a Claude Code session, an OTLP trace or conversation,
// or a session id a native client chose.
export const agentSessions = pgTable(
  "agent_sessions",
  {
    id: uuid("id").primaryKey(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    agentId: uuid("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    // The id the client uses for this session.
    externalId: text("external_id").notNull(),
    source: text("source").notNull(),
    title: text("title"),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
    lastEventAt: timestamp("last_event_at", { withTimezone: true }).notNull(),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    eventCount: integer("event_count").notNull().default(0),
    errorCount: integer("error_count").notNull().default(0),
    // A running total of event costs: unbounded precision, so no number
    // of events can overflow it (each event's cost is bounded, see
    // server/observability/limits.ts). Its scale follows the 8 places of
    // the event costs added to it.
    costUsd: numeric("cost_usd").notNull().default("0.00000000"),
    unpricedCount: integer("unpriced_count").notNull().default(0),
    /** Red flags raised on this session's events (event_flags rows). */
    flagCount: integer("flag_count").notNull().default(0),
    // The tamper-evident chain over the session's events (see
    // server/observability/chain.ts): its last link and its length.
    chainHead: text("chain_head"),
    chainLength: integer("chain_length").notNull().default(0),
    // Retention removes a session's oldest events: the chain is then
    // verified from the link after prunedThroughSeq, whose hash is kept.
    prunedThroughSeq: integer("pruned_through_seq").notNull().default(0),
    prunedChainHash: text("pruned_chain_hash"),
    // Inputs of the session grade (server/observability/grade.ts), kept
    // as running counts at ingest: attempts (tool and model calls), work
    // landed, flags by severity; and the grade with its reasons.
    attemptCount: integer("attempt_count").notNull().default(0),
    landedCount: integer("landed_count").notNull().default(0),
    highFlagCount: integer("high_flag_count").notNull().default(0),
    criticalFlagCount: integer("critical_flag_count").notNull().default(0),
    grade: text("grade"),
    gradeReasons: jsonb("grade_reasons").$type<string[]>(),
  },
  (t) => [
    uniqueIndex("agent_sessions_external_uq").on(t.projectId, t.externalId),
    index("agent_sessions_recent_idx").on(t.projectId, t.lastEventAt),
    index("agent_sessions_grade_idx").on(t.projectId, t.grade),
  ],
);

// Raw events. On both databases the table is partitioned by month of
// occurred_at (migration 0007; partitions are made on demand by
// server/observability/partitions.ts and dropped by retention), so its
// keys include occurred_at and idempotency lives in event_keys.
//
// No foreign keys: ingest sets every id itself (the project and agent of
// the token, the session it upserts, a task it checked belongs to the
// project), projects, agents, sessions, goals and tasks are never deleted
// (they are archived), and checking five keys per row cost ingest about
// 40% of each insert. Retention removes events by time.
export const events = pgTable(
  "events",
  {
    id: uuid("id").notNull(),
    projectId: uuid("project_id").notNull(),
    sessionId: uuid("session_id").notNull(),
    agentId: uuid("agent_id").notNull(),
    taskId: uuid("task_id"),
    goalId: uuid("goal_id"),
    // Identity of the event as the client knows it; a replay with the same
    // key is stored once.
    eventKey: text("event_key").notNull(),
    source: text("source").notNull(),
    type: text("type").notNull(),
    name: text("name").notNull(),
    status: text("status").notNull().default("ok"),
    occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull(),
    durationMs: integer("duration_ms"),
    traceId: text("trace_id"),
    spanId: text("span_id"),
    parentSpanId: text("parent_span_id"),
    toolName: text("tool_name"),
    model: text("model"),
    provider: text("provider"),
    inputTokens: bigint("input_tokens", { mode: "number" }),
    outputTokens: bigint("output_tokens", { mode: "number" }),
    cacheReadTokens: bigint("cache_read_tokens", { mode: "number" }),
    cacheWrite5mTokens: bigint("cache_write_5m_tokens", { mode: "number" }),
    cacheWrite1hTokens: bigint("cache_write_1h_tokens", { mode: "number" }),
    // Up to $99,999,999.99999999: token counts (at most 1e9 per field) and
    // reported costs (at most $1e6) are capped so one event stays far below.
    costUsd: numeric("cost_usd", { precision: 16, scale: 8 }),
    // computed | reported | unpriced | none
    costSource: text("cost_source").notNull().default("none"),
    input: jsonValue("input"),
    output: jsonValue("output"),
    attributes: jsonValue("attributes").$type<Record<string, unknown>>(),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull(),
    // Position in the session's hash chain (1-based, order of arrival) and
    // the link: sha256(previous link + digest of the event). Null only for
    // rows written outside ingest (test fixtures).
    chainSeq: integer("chain_seq"),
    chainHash: text("chain_hash"),
  },
  (t) => [
    primaryKey({ columns: [t.id, t.occurredAt] }),
    index("events_chain_idx").on(t.sessionId, t.chainSeq),
    // Span-tree lookups of the session timeline (parents by span id).
    index("events_span_idx").on(t.sessionId, t.spanId),
    index("events_session_idx").on(t.sessionId, t.occurredAt),
    index("events_project_time_idx").on(t.projectId, t.occurredAt),
    index("events_goal_idx").on(t.goalId),
    index("events_task_idx").on(t.taskId),
  ],
);

// A red flag raised at ingest on one event: a secret, a destructive
// command or query, a write to a sensitive file (server/observability/
// flags.ts). The excerpt never holds the secret itself.
export const eventFlags = pgTable(
  "event_flags",
  {
    id: uuid("id").primaryKey(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => agentSessions.id, { onDelete: "cascade" }),
    // No foreign key: events are partitioned. Retention removes flags with
    // their events by eventOccurredAt.
    eventId: uuid("event_id").notNull(),
    eventOccurredAt: timestamp("event_occurred_at", {
      withTimezone: true,
    }).notNull(),
    rule: text("rule").notNull(),
    // low | medium | high | critical
    severity: text("severity").notNull(),
    excerpt: text("excerpt").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    index("event_flags_event_idx").on(t.eventId),
    index("event_flags_session_idx").on(t.sessionId),
    index("event_flags_project_rule_idx").on(t.projectId, t.rule),
    index("event_flags_time_idx").on(t.eventOccurredAt),
  ],
);

// One row per stored event key: what makes ingest idempotent (a replayed
// key is found here and stored nothing). Keys are the reporting agent's
// own, so one agent can never make another's events look like replays.
// Not partitioned, and kept as long as the rollups, so a replay of pruned
// events cannot count twice.
// No foreign keys, for the same reason as events.
export const eventKeys = pgTable(
  "event_keys",
  {
    projectId: uuid("project_id").notNull(),
    agentId: uuid("agent_id").notNull(),
    eventKey: text("event_key").notNull(),
    eventId: uuid("event_id").notNull(),
    occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.agentId, t.eventKey] }),
    index("event_keys_time_idx").on(t.occurredAt),
  ],
);

// A project's own prices, over the table in the repository: USD per
// million tokens for models whose id matches the pattern (a glob: * for
// any run of characters), in force from effectiveFrom on.
export const priceOverrides = pgTable(
  "price_overrides",
  {
    id: uuid("id").primaryKey(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    pattern: text("pattern").notNull(),
    label: text("label"),
    inputUsd: numeric("input_usd", { precision: 14, scale: 6 }).notNull(),
    outputUsd: numeric("output_usd", { precision: 14, scale: 6 }).notNull(),
    cacheReadUsd: numeric("cache_read_usd", {
      precision: 14,
      scale: 6,
    }).notNull(),
    cacheWrite5mUsd: numeric("cache_write_5m_usd", {
      precision: 14,
      scale: 6,
    }).notNull(),
    cacheWrite1hUsd: numeric("cache_write_1h_usd", {
      precision: 14,
      scale: 6,
    }).notNull(),
    effectiveFrom: timestamp("effective_from", {
      withTimezone: true,
    }).notNull(),
    createdBy: text("created_by"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex("price_overrides_uq").on(
      t.projectId,
      t.pattern,
      t.effectiveFrom,
    ),
  ],
);

// A project's own red-flag rules, checked at ingest beside the built-in
// ones: a substring of an event's input or output, or a glob over the
// paths it writes.
export const flagRules = pgTable(
  "flag_rules",
  {
    id: uuid("id").primaryKey(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    // substring | path_glob
    kind: text("kind").notNull(),
    pattern: text("pattern").notNull(),
    // low | medium | high | critical
    severity: text("severity").notNull(),
    enabled: boolean("enabled").notNull().default(true),
    createdBy: text("created_by"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [uniqueIndex("flag_rules_name_uq").on(t.projectId, t.name)],
);

// How long a project keeps raw events and rollups. No row: the defaults.
export const observabilitySettings = pgTable("observability_settings", {
  projectId: uuid("project_id")
    .primaryKey()
    .references(() => projects.id, { onDelete: "cascade" }),
  eventRetentionDays: integer("event_retention_days").notNull().default(180),
  rollupRetentionDays: integer("rollup_retention_days").notNull().default(1095),
  updatedBy: text("updated_by"),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
});

// Spend rollups: one row per hour, project, agent, model, goal and task,
// holding the sums of the events that carry tokens or a cost (cost_source
// other than 'none'). Ingest adds to them in the transaction that stores
// the events (server/observability/rollups.ts), so they always equal the
// raw events; spend reports read them instead of scanning events. Hourly
// so a report can later bucket days in any whole-hour time zone.
export const spendHourly = pgTable(
  "spend_hourly",
  {
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    hour: timestamp("hour", { withTimezone: true }).notNull(),
    agentId: uuid("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    // No foreign keys on goal and task: a row keeps the ids its events had
    // when they were stored (goals and tasks are archived, not deleted).
    model: text("model"),
    goalId: uuid("goal_id"),
    taskId: uuid("task_id"),
    // Unbounded precision like session totals; scale 8 as the events.
    // Token sums are bigint: one hour of one agent cannot approach 9e18
    // (each count is capped at 1e9), and bigint keeps rows narrow and
    // sums fast for reports.
    costUsd: numeric("cost_usd").notNull().default("0.00000000"),
    /** Events with a cost (computed or reported). */
    pricedCalls: bigint("priced_calls", { mode: "number" })
      .notNull()
      .default(0),
    calls: bigint("calls", { mode: "number" }).notNull().default(0),
    unpricedCalls: bigint("unpriced_calls", { mode: "number" })
      .notNull()
      .default(0),
    inputTokens: bigint("input_tokens", { mode: "number" })
      .notNull()
      .default(0),
    outputTokens: bigint("output_tokens", { mode: "number" })
      .notNull()
      .default(0),
    cacheReadTokens: bigint("cache_read_tokens", { mode: "number" })
      .notNull()
      .default(0),
    cacheWriteTokens: bigint("cache_write_tokens", { mode: "number" })
      .notNull()
      .default(0),
  },
  (t) => [
    // Nulls (no model, goal or task) are equal here, so "no goal" is one
    // row per hour that concurrent ingests add to, never many.
    unique("spend_hourly_key")
      .on(t.projectId, t.hour, t.agentId, t.model, t.goalId, t.taskId)
      .nullsNotDistinct(),
    // Cost per completed task and goal burn-down read one task's or one
    // goal's rows.
    index("spend_hourly_task_idx").on(t.projectId, t.taskId),
    index("spend_hourly_goal_idx").on(t.projectId, t.goalId, t.hour),
  ],
);
