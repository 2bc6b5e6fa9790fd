import { z } from "zod";
import {
  MAX_EVENT_KEY_LENGTH,
  MAX_REPORTED_COST_USD,
  MAX_SESSION_ID_LENGTH,
  MAX_TOKENS,
} from "./limits";

// Flotilla's one event model. Every source (native batches, Claude Code
// hooks, OTLP traces and logs) is normalized into `EventInput` before it is
// ingested; docs/events.md documents the native batch form.

export const eventTypes = [
  "llm_call",
  "tool_call",
  "file_change",
  "message",
  "claim",
  "context_lookup",
  "guardrail_decision",
  "error",
  "session_start",
  "session_end",
  "notification",
  "subagent",
  "agent_run",
  "span",
] as const;
export type EventType = (typeof eventTypes)[number];

export const eventStatuses = ["ok", "error", "denied"] as const;
export type EventStatus = (typeof eventStatuses)[number];

export const MAX_BATCH_EVENTS = 1000;

const tokenCount = z
  .number()
  .int()
  .min(0)
  .max(MAX_TOKENS, `at most ${MAX_TOKENS.toLocaleString("en-US")} tokens`);
const json = z.unknown();

export const eventUsageSchema = z.strictObject({
  /** Input tokens NOT served from or written to a cache. */
  inputTokens: tokenCount.default(0),
  outputTokens: tokenCount.default(0),
  cacheReadTokens: tokenCount.default(0),
  cacheWrite5mTokens: tokenCount.default(0),
  cacheWrite1hTokens: tokenCount.default(0),
});

/** One native event. Unknown top-level fields are refused so a typo does
 * not silently lose data; free-form data goes in `attributes`. */
export const nativeEventSchema = z.strictObject({
  /** The event's identity; a replay with the same id is stored once. */
  id: z.string().trim().min(1).max(MAX_EVENT_KEY_LENGTH),
  /** The client's session id; events with the same one form a session. */
  sessionId: z.string().trim().min(1).max(MAX_SESSION_ID_LENGTH),
  type: z.enum(eventTypes),
  name: z.string().max(300).optional(),
  status: z.enum(eventStatuses).default("ok"),
  /** When it happened, ISO 8601 with an offset. */
  time: z.iso.datetime({ offset: true }),
  durationMs: z.number().int().min(0).max(2_147_483_647).optional(),
  /** The task this event worked on; otherwise the task the agent held at
   * `time` is used. */
  taskId: z.uuid().optional(),
  traceId: z.string().max(128).optional(),
  spanId: z.string().max(128).optional(),
  parentSpanId: z.string().max(128).optional(),
  toolName: z.string().max(300).optional(),
  model: z.string().max(300).optional(),
  provider: z.string().max(100).optional(),
  usage: eventUsageSchema.optional(),
  /** A cost the client computed itself, kept as reported. */
  costUsd: z.number().min(0).max(MAX_REPORTED_COST_USD).optional(),
  input: json.optional(),
  output: json.optional(),
  attributes: z.record(z.string(), json).optional(),
  sessionTitle: z.string().max(300).optional(),
});

export type NativeEvent = z.infer<typeof nativeEventSchema>;

/** The batch body of POST /api/agent/v1/events. Items are validated one
 * by one during ingest, so one bad item rejects only itself. */
export const nativeBatchSchema = z.strictObject({
  source: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,39}$/, "lowercase letters, digits, . _ -")
    .default("native"),
  events: z
    .array(json)
    .min(1, "send at least one event")
    .max(MAX_BATCH_EVENTS, `at most ${MAX_BATCH_EVENTS} events per batch`),
});

export type NativeBatch = z.infer<typeof nativeBatchSchema>;
