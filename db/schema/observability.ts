import {
  bigint,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { agents, projects } from "./identity";
import { goals, tasks } from "./orchestration";

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
  },
  (t) => [
    uniqueIndex("agent_sessions_external_uq").on(t.projectId, t.externalId),
    index("agent_sessions_recent_idx").on(t.projectId, t.lastEventAt),
  ],
);

export const events = pgTable(
  "events",
  {
    id: uuid("id").primaryKey(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => agentSessions.id, { onDelete: "cascade" }),
    agentId: uuid("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    taskId: uuid("task_id").references(() => tasks.id, {
      onDelete: "set null",
    }),
    goalId: uuid("goal_id").references(() => goals.id, {
      onDelete: "set null",
    }),
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
    input: jsonb("input"),
    output: jsonb("output"),
    attributes: jsonb("attributes").$type<Record<string, unknown>>(),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull(),
    // Position in the session's hash chain (1-based, order of arrival) and
    // the link: sha256(previous link + digest of the event). Null only for
    // rows written outside ingest (test fixtures).
    chainSeq: integer("chain_seq"),
    chainHash: text("chain_hash"),
  },
  (t) => [
    uniqueIndex("events_key_uq").on(t.projectId, t.eventKey),
    uniqueIndex("events_chain_uq").on(t.sessionId, t.chainSeq),
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
    eventId: uuid("event_id")
      .notNull()
      .references(() => events.id, { onDelete: "cascade" }),
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
  ],
);

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
  ],
);
