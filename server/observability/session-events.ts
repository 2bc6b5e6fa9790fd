import {
  and,
  asc,
  count,
  eq,
  exists,
  gt,
  inArray,
  lte,
  ne,
  or,
  sql,
  type SQL,
} from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client";
import { agentSessions, eventFlags, events, goals, tasks } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { invalidInput, notFound } from "@/server/errors";
import { parseInput } from "@/server/input";
import { maskSecrets, maskValue } from "./flags";
import { eventTypes, type EventType } from "./model";
import { isoTimeWithinYears } from "./time-bounds";

// One session's events a page at a time, for a timeline that must open a
// session of tens of thousands of events quickly. Pages follow the key
// (occurred_at, id), so an event that arrives while someone reads never
// shifts a page boundary. Each event carries its depth in the span tree:
// an event whose parent_span_id is another event's span_id in the same
// session sits one level below it. Secrets are masked here, as everywhere
// people read events.

export const MAX_EVENT_PAGE = 500;

/** How far up the span tree depth is followed; deeper counts as this. */
export const MAX_SPAN_DEPTH = 64;

export const sessionEventsInput = z.object({
  project: z.string().min(1),
  /** Flotilla's session id, or the id the client used for it. */
  sessionId: z.string().min(1).max(300),
  /** The nextCursor of the previous page; absent for the first page. */
  cursor: z.string().min(1).max(200).nullish(),
  limit: z.number().int().min(1).max(MAX_EVENT_PAGE).default(200),
  /** Only events of these types. */
  types: z.array(z.enum(eventTypes)).min(1).max(eventTypes.length).optional(),
  /** Only events that raised a red flag. */
  flaggedOnly: z.boolean().default(false),
  /** Only events that failed or were denied. */
  failuresOnly: z.boolean().default(false),
});

export type SessionEventsInput = z.input<typeof sessionEventsInput>;

export interface EventFlag {
  rule: string;
  severity: string;
  excerpt: string;
}

export interface TimelineEvent {
  id: string;
  eventKey: string;
  source: string;
  type: string;
  name: string;
  status: string;
  occurredAt: Date;
  /** Position in the order of arrival; orders events of one moment.
   * Null only for rows written outside ingest. */
  chainSeq: number | null;
  durationMs: number | null;
  traceId: string | null;
  spanId: string | null;
  parentSpanId: string | null;
  /** Levels below the session's root spans (0 for a root). */
  depth: number;
  toolName: string | null;
  model: string | null;
  provider: string | null;
  taskId: string | null;
  taskTitle: string | null;
  goalId: string | null;
  goalTitle: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cacheReadTokens: number | null;
  cacheWrite5mTokens: number | null;
  cacheWrite1hTokens: number | null;
  /** Null when unpriced or when the event carries no cost. */
  costUsd: number | null;
  /** computed | reported | unpriced | none */
  costSource: string;
  input: unknown;
  output: unknown;
  attributes: Record<string, unknown> | null;
  flags: EventFlag[];
}

export interface SessionEventPage {
  events: TimelineEvent[];
  /** Pass as `cursor` for the next page; null after the last one. */
  nextCursor: string | null;
  /** Events in the session that match the filters, on every page. */
  total: number;
  /** The session's chain length when `total` was counted: later events
   * (listSessionUpdates after this position) are not in it. */
  position: number;
}

/** An event as the live session page receives it, with its place in the
 * order of arrival. */
export interface ArrivedEvent extends TimelineEvent {
  chainSeq: number;
}

const uuidPattern =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The session `sessionId` names in the project (either id), or 404. */
export async function findProjectSession(
  db: Database,
  projectId: string,
  sessionId: string,
) {
  const byId = uuidPattern.test(sessionId)
    ? or(
        eq(agentSessions.id, sessionId),
        eq(agentSessions.externalId, sessionId),
      )
    : eq(agentSessions.externalId, sessionId);
  const [session] = await db
    .select({ id: agentSessions.id, flagCount: agentSessions.flagCount })
    .from(agentSessions)
    .where(and(eq(agentSessions.projectId, projectId), byId))
    // Flotilla's own id first, should a client have chosen the same text
    // as its id for another session.
    .orderBy(sql`(${agentSessions.id}::text = ${sessionId}) desc`)
    .limit(1);
  if (!session) throw notFound("Session", sessionId);

  return session;
}

// Pages run by time, then by position in the order of arrival, then by
// id. The cursor holds all three for the last event, its time to the
// microsecond as the database stores it, so no event is skipped or
// repeated at a boundary.
const cursorTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const cursorShape = z.tuple([
  z
    .string()
    .regex(cursorTime)
    // A real moment (no month 99 or hour 25) in the years events have.
    .refine((at) => isoTimeWithinYears(at) !== null),
  z.number().int().min(0).max(2_147_483_647),
  z.uuid(),
]);

function encodeCursor(at: string, seq: number, id: string): string {
  return Buffer.from(JSON.stringify([at, seq, id])).toString("base64url");
}

function decodeCursor(cursor: string): { at: string; seq: number; id: string } {
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    parsed = null;
  }
  const checked = cursorShape.safeParse(parsed);
  if (!checked.success) {
    const message = "not a cursor this timeline returned";
    throw invalidInput(`Invalid input: cursor: ${message}`, [
      { path: "cursor", message },
    ]);
  }

  return { at: checked.data[0], seq: checked.data[1], id: checked.data[2] };
}

/** Which events a page holds and how many. */
export interface EventPageFilters {
  limit: number;
  types?: EventType[];
  flaggedOnly?: boolean;
  failuresOnly?: boolean;
}

function filterConditions(
  db: Database,
  sessionId: string,
  filters: EventPageFilters,
): SQL[] {
  const conditions: SQL[] = [eq(events.sessionId, sessionId)];
  if (filters.types) conditions.push(inArray(events.type, filters.types));
  if (filters.failuresOnly) conditions.push(ne(events.status, "ok"));
  if (filters.flaggedOnly) {
    conditions.push(
      exists(
        db
          .select({ one: sql`1` })
          .from(eventFlags)
          .where(eq(eventFlags.eventId, events.id)),
      ),
    );
  }

  return conditions;
}

export async function listSessionEvents(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<SessionEventPage> {
  const parsed = parseInput(sessionEventsInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    parsed.project,
    "viewer",
  );
  const session = await findProjectSession(db, project.id, parsed.sessionId);

  return readEventPage(db, session, parsed, parsed.cursor ?? null);
}

/** One page of a session's events; the caller has checked access. */
export async function readEventPage(
  db: Database,
  session: { id: string; flagCount: number },
  filters: EventPageFilters,
  cursor: string | null = null,
): Promise<SessionEventPage> {
  const after = cursor ? decodeCursor(cursor) : null;
  const conditions = filterConditions(db, session.id, filters);
  // One statement, so the count and the chain length are of one moment.
  const [{ total, position }] = await db
    .select({
      total: count(),
      position: sql<number>`(select ${agentSessions.chainLength}
        from ${agentSessions} where ${agentSessions.id} = ${session.id})`,
    })
    .from(events)
    .where(and(...conditions));
  // Rows without a chain position sort first among events of one moment.
  const seq = sql`coalesce(${events.chainSeq}, 0)`;
  const keyset = after
    ? sql`(${events.occurredAt}, ${seq}, ${events.id}) > (${after.at}::timestamptz, ${after.seq}::integer, ${after.id}::uuid)`
    : undefined;
  const rows = await db
    .select({
      ...eventColumns,
      cursorAt: sql<string>`to_char(${events.occurredAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    })
    .from(events)
    .leftJoin(tasks, eq(tasks.id, events.taskId))
    .leftJoin(goals, eq(goals.id, events.goalId))
    .where(and(...conditions, keyset))
    .orderBy(asc(events.occurredAt), asc(seq), asc(events.id))
    .limit(filters.limit + 1);
  const page = rows.slice(0, filters.limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > filters.limit && last
      ? encodeCursor(last.cursorAt, last.chainSeq ?? 0, last.id)
      : null;

  return {
    events: await describeEvents(
      db,
      session,
      page.map(({ cursorAt: _at, ...row }) => row),
    ),
    nextCursor,
    total,
    position: Number(position ?? 0),
  };
}

/**
 * The session's events that arrived after chain position `after`, up to
 * `through`, in order of arrival: what a live timeline has not seen yet.
 * The caller has checked access. `more` is true when `limit` cut the list.
 */
export async function readArrivedEvents(
  db: Database,
  session: { id: string; flagCount: number },
  range: { after: number; through: number; limit: number },
): Promise<{ events: ArrivedEvent[]; more: boolean }> {
  if (range.through <= range.after) return { events: [], more: false };
  const rows = await db
    .select(eventColumns)
    .from(events)
    .leftJoin(tasks, eq(tasks.id, events.taskId))
    .leftJoin(goals, eq(goals.id, events.goalId))
    .where(
      and(
        eq(events.sessionId, session.id),
        gt(events.chainSeq, range.after),
        lte(events.chainSeq, range.through),
      ),
    )
    .orderBy(asc(events.chainSeq))
    .limit(range.limit + 1);
  const arrived = rows.slice(0, range.limit);
  const described = await describeEvents(db, session, arrived);

  return {
    // The range holds only chained events, so every seq is set.
    events: described.map((event, i) => ({
      ...event,
      chainSeq: arrived[i].chainSeq ?? range.after,
    })),
    more: rows.length > range.limit,
  };
}

/** An event row as read, before describeEvents. */
type EventRow = Omit<TimelineEvent, "depth" | "costUsd" | "flags"> & {
  costUsd: string | null;
};

/** Rows as readers see them: depth in the span tree, red flags, secrets
 * masked. */
async function describeEvents(
  db: Database,
  session: { id: string; flagCount: number },
  rows: EventRow[],
): Promise<TimelineEvent[]> {
  const [flagsByEvent, depthOf] = await Promise.all([
    session.flagCount > 0
      ? flagsFor(
          db,
          rows.map((row) => row.id),
        )
      : new Map<string, EventFlag[]>(),
    spanDepths(db, session.id, rows),
  ]);

  return rows.map((row) => ({
    ...row,
    depth: depthOf(row),
    costUsd: row.costUsd === null ? null : Number(row.costUsd),
    input: maskValue(row.input),
    output: maskValue(row.output),
    attributes: row.attributes
      ? (maskValue(row.attributes) as Record<string, unknown>)
      : null,
    flags: flagsByEvent.get(row.id) ?? [],
  }));
}

const eventColumns = {
  id: events.id,
  eventKey: events.eventKey,
  source: events.source,
  type: events.type,
  name: events.name,
  status: events.status,
  occurredAt: events.occurredAt,
  chainSeq: events.chainSeq,
  durationMs: events.durationMs,
  traceId: events.traceId,
  spanId: events.spanId,
  parentSpanId: events.parentSpanId,
  toolName: events.toolName,
  model: events.model,
  provider: events.provider,
  taskId: events.taskId,
  taskTitle: tasks.title,
  goalId: events.goalId,
  goalTitle: goals.title,
  inputTokens: events.inputTokens,
  outputTokens: events.outputTokens,
  cacheReadTokens: events.cacheReadTokens,
  cacheWrite5mTokens: events.cacheWrite5mTokens,
  cacheWrite1hTokens: events.cacheWrite1hTokens,
  costUsd: events.costUsd,
  costSource: events.costSource,
  input: events.input,
  output: events.output,
  attributes: events.attributes,
};

async function flagsFor(
  db: Database,
  eventIds: string[],
): Promise<Map<string, EventFlag[]>> {
  const byEvent = new Map<string, EventFlag[]>();
  if (eventIds.length === 0) return byEvent;
  const rows = await db
    .select({
      eventId: eventFlags.eventId,
      rule: eventFlags.rule,
      severity: eventFlags.severity,
      excerpt: eventFlags.excerpt,
    })
    .from(eventFlags)
    .where(inArray(eventFlags.eventId, eventIds))
    .orderBy(asc(eventFlags.rule));
  for (const { eventId, ...flag } of rows) {
    const list = byEvent.get(eventId) ?? [];
    list.push({ ...flag, excerpt: maskSecrets(flag.excerpt) });
    byEvent.set(eventId, list);
  }

  return byEvent;
}

/**
 * Depths in the session's span tree for the events of one page. Ancestors
 * may sit on other pages, so the parents of unknown spans are looked up a
 * level at a time (a few queries for a typical tree). A span id that
 * several events share takes the first parent found; a cycle in the links
 * stops the walk instead of looping.
 */
async function spanDepths(
  db: Database,
  sessionId: string,
  page: { spanId: string | null; parentSpanId: string | null }[],
): Promise<
  (event: { spanId: string | null; parentSpanId: string | null }) => number
> {
  // span id -> its parent span id (null for a root), for spans known to
  // exist in the session.
  const parentOf = new Map<string, string | null>();
  for (const { spanId, parentSpanId } of page) {
    if (spanId && !parentOf.has(spanId)) {
      parentOf.set(spanId, parentSpanId === spanId ? null : parentSpanId);
    }
  }
  const looked = new Set<string>();
  let wanted = page.map((event) => event.parentSpanId);
  for (let level = 0; level < MAX_SPAN_DEPTH; level++) {
    const unknown = [
      ...new Set(
        wanted.filter(
          (id): id is string =>
            id !== null && !parentOf.has(id) && !looked.has(id),
        ),
      ),
    ];
    if (unknown.length === 0) break;
    for (const id of unknown) looked.add(id);
    const rows = await db
      .selectDistinct({
        spanId: events.spanId,
        parentSpanId: events.parentSpanId,
      })
      .from(events)
      .where(
        and(eq(events.sessionId, sessionId), inArray(events.spanId, unknown)),
      );
    wanted = [];
    for (const { spanId, parentSpanId } of rows) {
      if (spanId === null || parentOf.has(spanId)) continue;
      parentOf.set(spanId, parentSpanId === spanId ? null : parentSpanId);
      wanted.push(parentSpanId);
    }
  }

  const depthCache = new Map<string, number>();
  // Depth of the span `spanId` itself: how many known ancestors it has.
  function spanDepth(spanId: string): number {
    const cached = depthCache.get(spanId);
    if (cached !== undefined) return cached;
    const path: string[] = [];
    const seen = new Set<string>();
    let current: string | null = spanId;
    // The depth just above the topmost span walked: -1 above a root.
    let base = -1;
    while (current !== null && parentOf.has(current)) {
      const known = depthCache.get(current);
      if (known !== undefined) {
        base = known;
        break;
      }
      // A cycle, or a chain too long to follow: the walk's top counts as
      // a root.
      if (seen.has(current) || path.length >= MAX_SPAN_DEPTH) break;
      seen.add(current);
      path.push(current);
      current = parentOf.get(current) ?? null;
    }
    for (let i = path.length - 1; i >= 0; i--) {
      base = Math.min(base + 1, MAX_SPAN_DEPTH);
      depthCache.set(path[i], base);
    }

    return depthCache.get(spanId) ?? 0;
  }

  return (event) => {
    const parent = event.parentSpanId;
    if (parent === null || parent === event.spanId || !parentOf.has(parent)) {
      return 0;
    }

    return Math.min(spanDepth(parent) + 1, MAX_SPAN_DEPTH);
  };
}
