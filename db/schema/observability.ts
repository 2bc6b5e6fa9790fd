import {
  bigint,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
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
