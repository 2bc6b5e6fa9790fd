import { sql } from "drizzle-orm";
import type { Database } from "@/db/client";
import { agentSessions, events } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { DomainError } from "@/server/errors";
import { newId, now } from "@/server/runtime";
import { heldTaskResolver, tasksInProject, type TaskLink } from "./attribution";
import {
  MAX_BATCH_EVENTS,
  nativeBatchSchema,
  type EventStatus,
  type EventType,
} from "./model";
import { checkEvent } from "./limits";
import { fromNativeItems } from "./normalize/native";
import { priceEvent, type TokenUsage } from "./prices";

// Ingest: normalized events are linked to their project, agent, session and
// task, priced, and stored once per event key; session totals move in the
// same transaction so they always equal the sum of their events.

export type AgentActor = Extract<Actor, { kind: "agent" }>;

/** An event as every normalizer hands it to ingest. */
export interface EventInput {
  /** Identity within the project; a second event with it is a duplicate. */
  key: string;
  /** The client's session id. */
  sessionId: string;
  sessionTitle?: string | null;
  type: EventType;
  name: string;
  status: EventStatus;
  occurredAt: Date;
  durationMs?: number | null;
  taskId?: string | null;
  traceId?: string | null;
  spanId?: string | null;
  parentSpanId?: string | null;
  toolName?: string | null;
  model?: string | null;
  provider?: string | null;
  /** Uncached input apart from cache reads and writes (see prices.ts). */
  usage?: TokenUsage | null;
  reportedCostUsd?: number | string | null;
  input?: unknown;
  output?: unknown;
  attributes?: Record<string, unknown> | null;
}

export interface Rejection {
  /** Position of the item in what the client sent. */
  index: number;
  reason: string;
}

export interface IngestResult {
  accepted: number;
  duplicate: number;
  rejected: number;
  rejections: Rejection[];
}

/** What a normalizer produced: events with their position in the
 * request, and the items it could not read. */
export interface Normalized {
  items: { index: number; event: EventInput }[];
  rejections: Rejection[];
}

const INSERT_CHUNK = 400;

/** Ingests a native batch (POST /api/agent/v1/events). */
export async function ingestEvents(
  db: Database,
  actor: AgentActor,
  input: unknown,
): Promise<IngestResult> {
  const count = (input as { events?: unknown } | null)?.events;
  if (Array.isArray(count) && count.length > MAX_BATCH_EVENTS) {
    throw new DomainError(
      "payload_too_large",
      `A batch holds at most ${MAX_BATCH_EVENTS} events; this one has ` +
        `${count.length}. Split it into smaller batches.`,
      { limit: MAX_BATCH_EVENTS, received: count.length },
    );
  }
  const parsed = nativeBatchSchema.safeParse(input);
  if (!parsed.success) {
    throw new DomainError(
      "invalid_input",
      `Invalid event batch: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
        .join("; ")}`,
      parsed.error.issues.map((i) => ({
        path: i.path.map(String).join(".") || "(root)",
        message: i.message,
      })),
    );
  }

  return storeEvents(
    db,
    actor,
    parsed.data.source,
    fromNativeItems(parsed.data.events),
  );
}

/** Stores normalized events; the shared end of every ingest path. Each
 * item is checked and cleaned on its own first (limits.ts), so one item
 * PostgreSQL could not hold is rejected with its reason and the rest are
 * stored. */
export async function storeEvents(
  db: Database,
  actor: AgentActor,
  source: string,
  normalized: Normalized,
): Promise<IngestResult> {
  const rejections = [...normalized.rejections];
  // Cleaned before grouping: ids equal after cleaning are one session or
  // one event, never two rows fighting over one key.
  const items: Normalized["items"] = [];
  for (const { index, event } of normalized.items) {
    const checked = checkEvent(event);
    if (checked.ok) items.push({ index, event: checked.event });
    else rejections.push({ index, reason: checked.reason });
  }
  const links = await linkTasks(db, actor, items, rejections);
  const receivedAt = now();

  const rows: (typeof events.$inferInsert)[] = [];
  const seen = new Set<string>();
  let duplicate = 0;
  for (const { index, event } of items) {
    const link = links.get(index);
    if (link === undefined) continue;
    // A key repeated inside one batch is a duplicate of its first use.
    if (seen.has(event.key)) {
      duplicate += 1;
      continue;
    }
    seen.add(event.key);
    rows.push(toRow(actor, source, event, link, receivedAt));
  }

  const inserted =
    rows.length === 0
      ? []
      : await db.transaction(async (tx) => {
          const store = tx as unknown as Database;
          const sessionIds = await upsertSessions(
            store,
            actor,
            source,
            items,
            rows,
          );
          for (const row of rows) {
            row.sessionId = sessionIds.get(row.sessionId) ?? row.sessionId;
          }
          const stored = await insertEvents(store, rows);
          await addToSessionTotals(store, stored);

          return stored;
        });
  duplicate += rows.length - inserted.length;
  rejections.sort((a, b) => a.index - b.index);

  return {
    accepted: inserted.length,
    duplicate,
    rejected: rejections.length,
    rejections,
  };
}

// Resolves every item's task; items naming a task outside the project are
// rejected. The map holds null for "no task".
async function linkTasks(
  db: Database,
  actor: AgentActor,
  items: Normalized["items"],
  rejections: Rejection[],
): Promise<Map<number, TaskLink | null>> {
  const named = [
    ...new Set(
      items.flatMap(({ event }) => (event.taskId ? [event.taskId] : [])),
    ),
  ];
  const known = await tasksInProject(db, actor.projectId, named);
  const heldAt = heldTaskResolver(db, actor.agentId);
  const links = new Map<number, TaskLink | null>();
  for (const { index, event } of items) {
    if (event.taskId) {
      const link = known.get(event.taskId);
      if (link) links.set(index, link);
      else {
        rejections.push({
          index,
          reason: `taskId ${event.taskId} is not a task of this project`,
        });
      }
      continue;
    }
    links.set(index, await heldAt(event.occurredAt));
  }

  return links;
}

function toRow(
  actor: AgentActor,
  source: string,
  event: EventInput,
  link: TaskLink | null,
  receivedAt: Date,
): typeof events.$inferInsert {
  const cost = priceEvent({
    model: event.model,
    usage: event.usage,
    reportedCostUsd: event.reportedCostUsd,
  });
  const usage = event.usage;

  return {
    id: newId(),
    projectId: actor.projectId,
    // Holds the client's session id until the session rows exist.
    sessionId: event.sessionId,
    agentId: actor.agentId,
    taskId: link?.taskId ?? null,
    goalId: link?.goalId ?? null,
    eventKey: event.key,
    source,
    type: event.type,
    name: event.name || event.type,
    status: event.status,
    occurredAt: event.occurredAt,
    durationMs: event.durationMs ?? null,
    traceId: event.traceId ?? null,
    spanId: event.spanId ?? null,
    parentSpanId: event.parentSpanId ?? null,
    toolName: event.toolName ?? null,
    model: event.model ?? null,
    provider: event.provider ?? null,
    inputTokens: usage ? usage.input : null,
    outputTokens: usage ? usage.output : null,
    cacheReadTokens: usage ? usage.cacheRead : null,
    cacheWrite5mTokens: usage ? usage.cacheWrite5m : null,
    cacheWrite1hTokens: usage ? usage.cacheWrite1h : null,
    costUsd: cost.costUsd,
    costSource: cost.costSource,
    input: event.input ?? null,
    output: event.output ?? null,
    attributes: event.attributes ?? null,
    receivedAt,
  };
}

async function upsertSessions(
  db: Database,
  actor: AgentActor,
  source: string,
  items: Normalized["items"],
  rows: (typeof events.$inferInsert)[],
): Promise<Map<string, string>> {
  const titles = new Map<string, string>();
  for (const { event } of items) {
    if (event.sessionTitle && !titles.has(event.sessionId)) {
      titles.set(event.sessionId, event.sessionTitle);
    }
  }
  const firstSeen = new Map<string, Date>();
  for (const row of rows) {
    const earlier = firstSeen.get(row.sessionId);
    if (!earlier || row.occurredAt < earlier) {
      firstSeen.set(row.sessionId, row.occurredAt);
    }
  }
  const values = [...firstSeen].map(([externalId, startedAt]) => ({
    id: newId(),
    projectId: actor.projectId,
    agentId: actor.agentId,
    externalId,
    source,
    title: titles.get(externalId) ?? null,
    startedAt,
    lastEventAt: startedAt,
  }));
  const stored = await db
    .insert(agentSessions)
    .values(values)
    .onConflictDoUpdate({
      target: [agentSessions.projectId, agentSessions.externalId],
      set: {
        title: sql`coalesce(${agentSessions.title}, excluded.title)`,
      },
    })
    .returning({ id: agentSessions.id, externalId: agentSessions.externalId });
  const ids = new Map<string, string>();
  for (const row of stored) ids.set(row.externalId, row.id);

  return ids;
}

type StoredEvent = Pick<
  typeof events.$inferSelect,
  "sessionId" | "status" | "type" | "costUsd" | "costSource" | "occurredAt"
>;

async function insertEvents(
  db: Database,
  rows: (typeof events.$inferInsert)[],
): Promise<StoredEvent[]> {
  const stored: StoredEvent[] = [];
  for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
    const chunk = rows.slice(start, start + INSERT_CHUNK);
    const returned = await db
      .insert(events)
      .values(chunk)
      .onConflictDoNothing({ target: [events.projectId, events.eventKey] })
      .returning({
        sessionId: events.sessionId,
        status: events.status,
        type: events.type,
        costUsd: events.costUsd,
        costSource: events.costSource,
        occurredAt: events.occurredAt,
      });
    stored.push(...returned);
  }

  return stored;
}

// Adds the newly stored events to their sessions' totals. Increments (not
// recounts) keep totals right when two batches for one session commit at
// the same time.
async function addToSessionTotals(db: Database, stored: StoredEvent[]) {
  const totals = new Map<
    string,
    {
      count: number;
      errors: number;
      unpriced: number;
      cost: bigint;
      first: Date;
      last: Date;
      ended: Date | null;
    }
  >();
  for (const event of stored) {
    const total = totals.get(event.sessionId) ?? {
      count: 0,
      errors: 0,
      unpriced: 0,
      cost: 0n,
      first: event.occurredAt,
      last: event.occurredAt,
      ended: null,
    };
    total.count += 1;
    if (event.status === "error") total.errors += 1;
    if (event.costSource === "unpriced") total.unpriced += 1;
    if (event.costUsd !== null)
      total.cost += toHundredMillionths(event.costUsd);
    if (event.occurredAt < total.first) total.first = event.occurredAt;
    if (event.occurredAt > total.last) total.last = event.occurredAt;
    if (
      event.type === "session_end" &&
      (!total.ended || event.occurredAt > total.ended)
    ) {
      total.ended = event.occurredAt;
    }
    totals.set(event.sessionId, total);
  }

  for (const [sessionId, total] of totals) {
    const s = agentSessions;
    await db
      .update(s)
      .set({
        eventCount: sql`${s.eventCount} + ${total.count}`,
        errorCount: sql`${s.errorCount} + ${total.errors}`,
        unpricedCount: sql`${s.unpricedCount} + ${total.unpriced}`,
        costUsd: sql`${s.costUsd} + ${fromHundredMillionths(total.cost)}::numeric`,
        startedAt: sql`least(${s.startedAt}, ${total.first.toISOString()}::timestamptz)`,
        lastEventAt: sql`greatest(${s.lastEventAt}, ${total.last.toISOString()}::timestamptz)`,
        ...(total.ended
          ? {
              endedAt: sql`greatest(${s.endedAt}, ${total.ended.toISOString()}::timestamptz)`,
            }
          : {}),
      })
      .where(sql`${s.id} = ${sessionId}`);
  }
}

// Event costs have 8 decimal places: summed as integers of 1e-8 USD to
// stay exact.
function toHundredMillionths(value: string): bigint {
  const [whole, fraction = ""] = value.split(".");
  const negative = whole.startsWith("-");
  const digits = BigInt(
    whole.replace("-", "") + (fraction + "00000000").slice(0, 8),
  );

  return negative ? -digits : digits;
}

function fromHundredMillionths(value: bigint): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(9, "0");

  return `${negative ? "-" : ""}${digits.slice(0, -8)}.${digits.slice(-8)}`;
}
