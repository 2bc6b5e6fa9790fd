import type { EventInput } from "./ingest";
import type { TokenUsage } from "./prices";

// What one event may hold. Every source (native batches, hooks, OTLP) meets
// these checks in storeEvents, before anything is grouped or written, so a
// value PostgreSQL would refuse rejects only its own item instead of failing
// the batch with a 500. docs/events.md lists them for clients.

/** Session ids are stored in a unique index, which has a row size limit. */
export const MAX_SESSION_ID_LENGTH = 300;
/** Models are part of the spend rollups' unique index. */
export const MAX_MODEL_LENGTH = 300;
/** Months one batch may hold events of: each month is a partition of the
 * events table, made when its first event arrives. */
export const MAX_BATCH_MONTHS = 24;
/** An event's identity (native `id`, hook or OTLP key), also indexed. */
export const MAX_EVENT_KEY_LENGTH = 512;
/** traceId, spanId and parentSpanId. */
export const MAX_TRACE_ID_LENGTH = 512;
/** Per token field of one event. No single LLM call comes near it; it
 * keeps a priced event within the cost column. */
export const MAX_TOKENS = 1_000_000_000;
/** A cost the client reports for one event, in USD. */
export const MAX_REPORTED_COST_USD = 1_000_000;
/** `integer` column. */
export const MAX_DURATION_MS = 2_147_483_647;
/** Arrays and objects inside one client value (native input, output or an
 * attribute value; a hook body field; an OTLP AnyValue). */
export const MAX_JSON_DEPTH = 64;
// Stored JSON columns may be deeper than a client value by the wrappers the
// normalizers add (the attributes object, `resource`, an error's
// `exceptions` list); this bounds what reaches the database whatever the
// source.
const MAX_STORED_JSON_DEPTH = MAX_JSON_DEPTH + 3;
/** Event times, in UTC: year 1970 to year 9999. */
export const EARLIEST_EVENT_TIME = Date.UTC(1970, 0, 1);
export const LATEST_EVENT_TIME = Date.UTC(10000, 0, 1) - 1;

/** Thrown by the JSON walks when a value nests deeper than they allow. */
export class PayloadTooDeep extends Error {
  constructor(limit = MAX_JSON_DEPTH) {
    super(`nested deeper than ${limit} levels`);
  }
}

/** Whether `value` nests arrays and objects more than `max` levels deep.
 * Walks with an explicit stack: a hostile payload 200,000 levels deep must
 * not overflow the call stack while being measured. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: { value: object; depth: number }[] = [];
  if (value !== null && typeof value === "object")
    stack.push({ value, depth: 1 });
  while (stack.length > 0) {
    const next = stack.pop();
    if (!next) break;
    if (next.depth > max) return true;
    const children = Array.isArray(next.value)
      ? next.value
      : Object.values(next.value);
    for (const child of children) {
      if (child !== null && typeof child === "object") {
        stack.push({ value: child as object, depth: next.depth + 1 });
      }
    }
  }

  return false;
}

// PostgreSQL text cannot hold NUL, and jsonb refuses a lone UTF-16
// surrogate ("\ud800" without its pair): both become U+FFFD.
export function cleanText(value: string): string {
  return value.replaceAll("\u0000", "\uFFFD").toWellFormed();
}

// An event's text columns (ids, names, models) are also cleaned of byte
// order marks at their start: an encoding artefact, which the embedded
// database would drop when reading the value back, so the value read
// would differ from the value hashed into the session's chain.
function cleanColumn(value: string): string {
  return cleanText(value).replace(/^\uFEFF+/, "");
}

/** A JSON value with every string and key cleaned. Throws PayloadTooDeep
 * past `maxDepth`; the recursion never goes further than that. A value
 * that needs no cleaning (almost every one) is returned as it is. */
export function cleanJson(
  value: unknown,
  maxDepth = MAX_STORED_JSON_DEPTH,
): unknown {
  return isClean(value, maxDepth) ? value : cleanCopy(value, maxDepth);
}

// NUL, or any UTF-16 surrogate (a paired one is fine, but rare enough to
// leave to the copy).
const uncleanText = /[\u0000\ud800-\udfff]/;

// Whether cleanCopy would return an equal value: plain JSON with no text
// to clean, no undefined, no holes and no key named __proto__.
function isClean(value: unknown, maxDepth: number): boolean {
  if (value === undefined) return false;
  if (typeof value === "string") return !uncleanText.test(value);
  if (value === null || typeof value !== "object") return true;
  if (maxDepth <= 0) throw new PayloadTooDeep();
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      if (!(i in value) || !isClean(value[i], maxDepth - 1)) return false;
    }

    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key of Object.keys(value)) {
    if (key === "__proto__" || uncleanText.test(key)) return false;
    if (!isClean((value as Record<string, unknown>)[key], maxDepth - 1)) {
      return false;
    }
  }

  return true;
}

function cleanCopy(value: unknown, maxDepth: number): unknown {
  if (value === undefined) return null;
  if (typeof value === "string") return cleanText(value);
  if (value === null || typeof value !== "object") return value;
  if (maxDepth <= 0) throw new PayloadTooDeep();
  if (Array.isArray(value)) {
    return value.map((item: unknown) => cleanCopy(item, maxDepth - 1));
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    let name = cleanText(key);
    // Two keys that differ only by a NUL or a broken surrogate must not
    // overwrite each other.
    while (Object.hasOwn(out, name)) name += "\uFFFD";
    setOwn(out, name, cleanCopy(item, maxDepth - 1));
  }

  return out;
}

/** Sets a member of a plain object; a key named __proto__ is defined as
 * a member like any other instead of replacing the object's prototype. */
export function setOwn(
  out: Record<string, unknown>,
  key: string,
  value: unknown,
) {
  if (key === "__proto__") {
    Object.defineProperty(out, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else out[key] = value;
}

export type CheckedEvent =
  | { ok: true; event: EventInput }
  | { ok: false; field: string; reason: string };

function tooLong(label: string, value: string, max: number) {
  return `${label} is ${value.length} characters long; at most ${max} are allowed`;
}

const tokenFields: { key: keyof TokenUsage; name: string }[] = [
  { key: "input", name: "inputTokens" },
  { key: "output", name: "outputTokens" },
  { key: "cacheRead", name: "cacheReadTokens" },
  { key: "cacheWrite5m", name: "cacheWrite5mTokens" },
  { key: "cacheWrite1h", name: "cacheWrite1hTokens" },
];

function reportedCostProblem(value: number | string): string | null {
  const amount =
    typeof value === "number"
      ? value
      : /^\s*\d+(\.\d+)?\s*$/.test(value)
        ? Number(value)
        : NaN;
  if (!Number.isFinite(amount) || amount < 0) {
    return `costUsd ${String(value)} is not a cost in USD`;
  }
  if (amount > MAX_REPORTED_COST_USD) {
    return `costUsd ${String(value)} is above the limit of ${MAX_REPORTED_COST_USD} USD per event`;
  }

  return null;
}

/** Checks one normalized event against the limits and returns it cleaned
 * (identifiers included, so events whose ids become equal after cleaning
 * are grouped as one), or the reason it cannot be stored. */
export function checkEvent(event: EventInput): CheckedEvent {
  const fail = (field: string, reason: string): CheckedEvent => ({
    ok: false,
    field,
    reason,
  });

  // Trace ids first: an OTLP event's key and session are made of them, and
  // the client knows them by these names.
  for (const field of ["traceId", "spanId", "parentSpanId"] as const) {
    const value = event[field];
    if (typeof value === "string" && value.length > MAX_TRACE_ID_LENGTH) {
      return fail(field, tooLong(field, value, MAX_TRACE_ID_LENGTH));
    }
  }
  const key = cleanColumn(event.key);
  if (key.length > MAX_EVENT_KEY_LENGTH) {
    return fail("key", tooLong("event id", key, MAX_EVENT_KEY_LENGTH));
  }
  if (key.length === 0) return fail("key", "event id is empty");
  const sessionId = cleanColumn(event.sessionId);
  if (sessionId.length > MAX_SESSION_ID_LENGTH) {
    return fail(
      "sessionId",
      tooLong("session id", sessionId, MAX_SESSION_ID_LENGTH),
    );
  }
  if (sessionId.length === 0) return fail("sessionId", "session id is empty");
  const model = cleanOrNull(event.model);
  if (model !== null && model.length > MAX_MODEL_LENGTH) {
    return fail("model", tooLong("model", model, MAX_MODEL_LENGTH));
  }

  const at = event.occurredAt.getTime();
  if (Number.isNaN(at) || at < EARLIEST_EVENT_TIME || at > LATEST_EVENT_TIME) {
    const shown = Number.isNaN(at)
      ? "an invalid date"
      : `year ${event.occurredAt.getUTCFullYear()}`;

    return fail(
      "time",
      `time is ${shown} in UTC; events must happen between 1970 and 9999`,
    );
  }

  const duration = event.durationMs;
  if (
    duration !== undefined &&
    duration !== null &&
    !(
      Number.isInteger(duration) &&
      duration >= 0 &&
      duration <= MAX_DURATION_MS
    )
  ) {
    return fail(
      "durationMs",
      `durationMs ${duration} is not a whole number of milliseconds ` +
        `from 0 to ${MAX_DURATION_MS}`,
    );
  }

  if (event.usage) {
    for (const { key: field, name } of tokenFields) {
      const count = event.usage[field];
      if (!Number.isInteger(count) || count < 0 || count > MAX_TOKENS) {
        return fail(
          `usage.${name}`,
          `usage.${name} ${count} is not a token count from 0 to ` +
            `${MAX_TOKENS.toLocaleString("en-US")}`,
        );
      }
    }
  }

  if (event.reportedCostUsd !== undefined && event.reportedCostUsd !== null) {
    const problem = reportedCostProblem(event.reportedCostUsd);
    if (problem) return fail("costUsd", problem);
  }

  const cleaned: EventInput = {
    ...event,
    key,
    sessionId,
    // Cut before cleaning: a cut between a surrogate pair is then mended.
    sessionTitle: event.sessionTitle
      ? cleanColumn(event.sessionTitle.slice(0, 200))
      : null,
    name: cleanColumn(event.name),
    traceId: cleanOrNull(event.traceId),
    spanId: cleanOrNull(event.spanId),
    parentSpanId: cleanOrNull(event.parentSpanId),
    toolName: cleanOrNull(event.toolName),
    model,
    provider: cleanOrNull(event.provider),
  };
  for (const field of ["input", "output", "attributes"] as const) {
    try {
      const value = cleanJson(event[field]);
      if (field === "attributes") {
        cleaned.attributes =
          value && typeof value === "object" && !Array.isArray(value)
            ? (value as Record<string, unknown>)
            : null;
      } else cleaned[field] = value;
    } catch (error) {
      if (!(error instanceof PayloadTooDeep)) throw error;

      return fail(
        field,
        `${field} is nested deeper than ${MAX_JSON_DEPTH} levels`,
      );
    }
  }

  return { ok: true, event: cleaned };
}

function cleanOrNull(value: string | null | undefined): string | null {
  return value === undefined || value === null ? null : cleanColumn(value);
}
