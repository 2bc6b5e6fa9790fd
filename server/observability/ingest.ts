import { getTableColumns, sql, type SQL } from "drizzle-orm";
import { queryRows, type Database } from "@/db/client";
import { agentSessions, eventFlags, events } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { DomainError } from "@/server/errors";
import { newId, now } from "@/server/runtime";
import { heldTasksAt, tasksInProject, type TaskLink } from "./attribution";
import {
  MAX_BATCH_EVENTS,
  nativeBatchSchema,
  type EventStatus,
  type EventType,
} from "./model";
import {
  chainLink,
  contentJson,
  eventDigest,
  type ChainedContent,
  type ContentJson,
} from "./chain";
import {
  flagEvent,
  prepareFlagRules,
  type Flag,
  type PreparedFlagRule,
} from "./flags";
import { enabledFlagRules } from "./flag-rules";
import { gradeSession, isAttempt, landsWork, type GradeInputs } from "./grade";
import { notifyCriticalFlags } from "./flag-notices";
import { checkEvent, MAX_BATCH_MONTHS } from "./limits";
import {
  ensureEventPartitions,
  forgetEventPartitions,
  isMissingPartition,
} from "./partitions";
import { fromNativeItems } from "./normalize/native";
import { priceEvent, type PriceOverride, type TokenUsage } from "./prices";
import { projectPriceOverrides } from "./price-overrides";
import {
  rollupUpserts,
  fromHundredMillionths,
  toHundredMillionths,
} from "./rollups";

// Ingest: normalized events are linked to their project, agent, session and
// task, priced, flagged, chained and stored once per event key; session
// totals, hourly spend rollups, red flags and the session's hash chain
// move in the same transaction, so totals always equal the sum of their
// events and every stored event is a link of its session's chain.

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
  // Each month of events is a partition made when its first event comes:
  // a batch may reach only so many, so one request cannot make hundreds.
  const months = new Set<string>();
  for (const { index, event } of normalized.items) {
    const checked = checkEvent(event);
    if (!checked.ok) {
      rejections.push({ index, reason: checked.reason });
      continue;
    }
    const month = checked.event.occurredAt.toISOString().slice(0, 7);
    if (!months.has(month) && months.size >= MAX_BATCH_MONTHS) {
      rejections.push({
        index,
        reason:
          `time: a batch may hold events of at most ${MAX_BATCH_MONTHS} ` +
          `different months; send the events of ${month} in another batch`,
      });
      continue;
    }
    months.add(month);
    items.push({ index, event: checked.event });
  }
  // Tasks the items name or the agent held, and the project's own prices
  // and red-flag rules, read once for the whole batch and side by side.
  const reads = Promise.all([
    linkTasks(db, actor, items, rejections),
    items.length === 0 ? [] : projectPriceOverrides(db, actor.projectId),
    items.length === 0
      ? []
      : enabledFlagRules(db, actor.projectId).then(prepareFlagRules),
  ]);
  // Each event's digest needs nothing from the database: it is made while
  // the reads are on their way.
  const [[links, overrides, customRules], content] = await whileWaiting(
    reads,
    () =>
      new Map(
        items.map(({ index, event }) => [index, contentOf(source, event)]),
      ),
  );
  const receivedAt = now();

  const accepted: Accepted[] = [];
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
    accepted.push({ event, link, content: content.get(index)! });
  }

  const inserted =
    accepted.length === 0
      ? []
      : await storeRows(db, {
          actor,
          source,
          items,
          accepted,
          overrides,
          customRules,
          receivedAt,
        });
  duplicate += accepted.length - inserted.length;
  rejections.sort((a, b) => a.index - b.index);

  return {
    accepted: inserted.length,
    duplicate,
    rejected: rejections.length,
    rejections,
  };
}

// Stores the batch's rows in one transaction, after making the monthly
// partitions they need. Should another process's retention have dropped
// a partition this process still thought present, the batch is tried
// once more with fresh knowledge of the partitions.
async function storeRows(db: Database, batch: Batch): Promise<StoredEvent[]> {
  for (let attempt = 1; ; attempt += 1) {
    await ensureEventPartitions(
      db,
      batch.accepted.map(({ event }) => event.occurredAt),
    );
    try {
      return await storeRowsOnce(db, batch);
    } catch (error) {
      if (attempt > 1 || !isMissingPartition(error)) throw error;
      forgetEventPartitions(db);
    }
  }
}

/** An event ingest will store unless its key was stored before. */
interface Accepted {
  event: EventInput;
  link: TaskLink | null;
  content: Content;
}

/** A batch ready to store: the events to store, every item they came
 * from, and the project's prices and red-flag rules. */
interface Batch {
  actor: AgentActor;
  source: string;
  items: Normalized["items"];
  accepted: Accepted[];
  overrides: readonly PriceOverride[];
  customRules: readonly PreparedFlagRule[];
  receivedAt: Date;
}

async function storeRowsOnce(
  db: Database,
  batch: Batch,
): Promise<StoredEvent[]> {
  const { actor, source, items, accepted, overrides, customRules, receivedAt } =
    batch;

  return db.transaction(async (tx) => {
    const store = tx as unknown as Database;
    // The upsert locks each session row until commit, so batches of one
    // session append to its chain one after the other. The rows are made
    // (and priced) while it is on its way.
    const [{ ids: sessionIds, chains }, rows] = await whileWaiting(
      upsertSessions(
        store,
        actor,
        source,
        items,
        accepted.map(({ event }) => event),
      ),
      () =>
        accepted.map(({ event, link, content }) =>
          toRow(actor, event, link, receivedAt, overrides, content),
        ),
    );
    for (const row of rows) {
      row.sessionId = sessionIds.get(row.sessionId) ?? row.sessionId;
    }
    // Linked as if every row were new, which a batch almost always is;
    // red flags are looked for while the rows are on their way.
    const locked = new Map([...chains].map(([id, c]) => [id, { ...c }]));
    appendToChains(chains, rows);
    const flags = new Map<string, Flag[]>();
    // Only rows this transaction inserted count: a replay adds nothing.
    // Session totals and hourly rollups move in one statement, made ready
    // for every row while the rows are on their way.
    const afterInsert = (fresh: EventRow[]) => {
      const stored = fresh.map(storedFrom);

      return {
        stored,
        totals: [
          ...sessionTotalUpdates(store, stored, chains, flags),
          ...rollupUpserts(store, stored),
          ...emptySessionDeletes(chains, stored),
        ],
      };
    };
    const [inserted, ready] = await whileWaiting(
      insertNewEvents(store, rows),
      () => {
        flagRows(rows, customRules, flags);

        return afterInsert(rows);
      },
    );
    let { stored, totals } = ready;
    if (inserted < rows.length) {
      // Some rows were replays: the chains skip them.
      const fresh = inserted === 0 ? [] : await claimedRows(store, rows);
      chains.clear();
      for (const [id, chain] of locked) chains.set(id, chain);
      appendToChains(chains, fresh);
      await rewriteChainLinks(store, fresh);
      ({ stored, totals } = afterInsert(fresh));
    }
    await storeFlags(store, actor.projectId, stored, flags, receivedAt);
    await notifyCriticalFlags(store, {
      projectId: actor.projectId,
      agentName: actor.agentName,
      stored,
      flags,
    });
    await runTogether(store, totals);

    return stored;
  });
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
  const held = await heldTasksAt(
    db,
    actor.agentId,
    items.flatMap(({ event }) => (event.taskId ? [] : [event.occurredAt])),
  );
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
    links.set(index, held.get(event.occurredAt.getTime()) ?? null);
  }

  return links;
}

type EventRow = typeof events.$inferInsert & {
  id: string;
  /** The event the row was made from. */
  event: EventInput;
} & Omit<Content, "columns">;

/** What an event's chain link is made from, made once per event. */
interface Content {
  columns: ChainedContent;
  /** Canonical JSON of input, output and attributes: digested, and
   * stored as they are. */
  json: ContentJson;
  digest: string;
}

// The columns of an event's row that its chain link covers.
function chainedColumns(source: string, event: EventInput): ChainedContent {
  const usage = event.usage;

  return {
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
    input: event.input ?? null,
    output: event.output ?? null,
    attributes: event.attributes ?? null,
  };
}

function contentOf(source: string, event: EventInput): Content {
  const columns = chainedColumns(source, event);
  const json = contentJson(columns);

  return { columns, json, digest: eventDigest(columns, json) };
}

function toRow(
  actor: AgentActor,
  event: EventInput,
  link: TaskLink | null,
  receivedAt: Date,
  overrides: readonly PriceOverride[],
  { columns, json, digest }: Content,
): EventRow {
  const cost = priceEvent({
    model: event.model,
    usage: event.usage,
    reportedCostUsd: event.reportedCostUsd,
    at: event.occurredAt,
    overrides,
  });

  return {
    id: newId(),
    projectId: actor.projectId,
    // Holds the client's session id until the session rows exist.
    sessionId: event.sessionId,
    agentId: actor.agentId,
    taskId: link?.taskId ?? null,
    goalId: link?.goalId ?? null,
    ...columns,
    attributes: columns.attributes as Record<string, unknown> | null,
    costUsd: cost.costUsd,
    costSource: cost.costSource,
    receivedAt,
    event,
    json,
    digest,
  };
}

async function upsertSessions(
  db: Database,
  actor: AgentActor,
  source: string,
  items: Normalized["items"],
  accepted: EventInput[],
): Promise<{ ids: Map<string, string>; chains: Map<string, Chain> }> {
  const titles = new Map<string, string>();
  for (const { event } of items) {
    if (event.sessionTitle && !titles.has(event.sessionId)) {
      titles.set(event.sessionId, event.sessionTitle);
    }
  }
  const firstSeen = new Map<string, Date>();
  for (const event of accepted) {
    const earlier = firstSeen.get(event.sessionId);
    if (!earlier || event.occurredAt < earlier) {
      firstSeen.set(event.sessionId, event.occurredAt);
    }
  }
  // Sorted so two batches lock the same sessions in the same order.
  const sorted = [...firstSeen].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const values = sorted.map(([externalId, startedAt]) => ({
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
    // Updated to nothing new, only to lock the row: a title is added with
    // the batch's new events (sessionTotalUpdates), so a replay sets none.
    .onConflictDoUpdate({
      target: [agentSessions.projectId, agentSessions.externalId],
      set: { title: sql`${agentSessions.title}` },
    })
    // After on conflict do update, the row is locked and these are its
    // values as of the lock: the chain as the last batch left it.
    .returning({
      id: agentSessions.id,
      externalId: agentSessions.externalId,
      // Made by this statement rather than found.
      created: sql<boolean>`(xmax = 0)`,
      head: agentSessions.chainHead,
      length: agentSessions.chainLength,
      attemptCount: agentSessions.attemptCount,
      failedCount: agentSessions.errorCount,
      landedCount: agentSessions.landedCount,
      highFlagCount: agentSessions.highFlagCount,
      criticalFlagCount: agentSessions.criticalFlagCount,
    });
  const ids = new Map<string, string>();
  const chains = new Map<string, Chain>();
  for (const { id, externalId, created, head, length, ...counts } of stored) {
    ids.set(externalId, id);
    chains.set(id, {
      head,
      length,
      counts,
      created,
      title: titles.get(externalId) ?? null,
    });
  }

  return { ids, chains };
}

type StoredEvent = Pick<
  typeof events.$inferSelect,
  | "id"
  | "projectId"
  | "sessionId"
  | "agentId"
  | "goalId"
  | "taskId"
  | "status"
  | "type"
  | "name"
  | "model"
  | "costUsd"
  | "costSource"
  | "occurredAt"
  | "inputTokens"
  | "outputTokens"
  | "cacheReadTokens"
  | "cacheWrite5mTokens"
  | "cacheWrite1hTokens"
>;

interface Chain {
  head: string | null;
  length: number;
  /** The session's grade counters as the batch found them (locked). */
  counts: GradeInputs;
  /** Whether this batch made the session row. */
  created: boolean;
  /** A title the batch gives the session, if it has none yet. */
  title: string | null;
}

// Links each row to its session's chain in batch order (the order of
// arrival) and moves the chain's head past it.
function appendToChains(chains: Map<string, Chain>, rows: EventRow[]) {
  for (const row of rows) {
    // upsertSessions returned every session of the batch, locked.
    const chain = chains.get(row.sessionId);
    if (!chain) throw new Error(`session ${row.sessionId} was not upserted`);
    chain.length += 1;
    chain.head = chainLink(chain.head, row.digest);
    row.chainSeq = chain.length;
    row.chainHash = chain.head;
    chains.set(row.sessionId, chain);
  }
}

// A session this batch made for events that all turned out to be replays
// (sent again under another session id) holds nothing: it is not kept.
function emptySessionDeletes(
  chains: Map<string, Chain>,
  stored: StoredEvent[],
): SQL[] {
  const used = new Set(stored.map((event) => event.sessionId));
  const empty = [...chains]
    .filter(([id, chain]) => chain.created && !used.has(id))
    .map(([id]) => id);
  if (empty.length === 0) return [];

  return [
    sql`delete from agent_sessions
        where id = any(${arrayLiteral(empty, false)}::uuid[])`,
  ];
}

/** Runs data-changing statements as one statement, each in a WITH clause
 * of its own; they touch different rows. */
async function runTogether(db: Database, statements: SQL[]) {
  if (statements.length === 0) return;
  await db.execute(
    sql`with ${sql.join(
      statements.map(
        (statement, i) => sql`${sql.raw(`w${i}`)} as (${statement})`,
      ),
      sql`, `,
    )} select 1`,
  );
}

// Looks for red flags on each row; what is raised goes into `flags` by
// row id.
function flagRows(
  rows: EventRow[],
  customRules: readonly PreparedFlagRule[],
  flags: Map<string, Flag[]>,
) {
  for (const row of rows) {
    const raised = flagEvent(row.event, customRules);
    if (raised.length > 0) flags.set(row.id, raised);
  }
}

/** Runs `work` while `pending` is on its way to the database (once the
 * event loop has sent it) and returns both results; a failure of
 * `pending` still reaches the caller. */
async function whileWaiting<T, W>(
  pending: Promise<T>,
  work: () => W,
): Promise<[T, W]> {
  pending.catch(() => {});
  await new Promise((resolve) => setImmediate(resolve));
  const done = work();

  return [await pending, done];
}

async function storeFlags(
  db: Database,
  projectId: string,
  stored: StoredEvent[],
  flags: Map<string, Flag[]>,
  createdAt: Date,
): Promise<void> {
  const rows: (typeof eventFlags.$inferInsert)[] = [];
  for (const event of stored) {
    for (const flag of flags.get(event.id) ?? []) {
      rows.push({
        id: newId(),
        projectId,
        sessionId: event.sessionId,
        eventId: event.id,
        eventOccurredAt: event.occurredAt,
        rule: flag.rule,
        severity: flag.severity,
        excerpt: flag.excerpt,
        createdAt,
      });
    }
  }
  for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
    await db.insert(eventFlags).values(rows.slice(start, start + INSERT_CHUNK));
  }
}

// A batch goes to PostgreSQL as one array literal per column, expanded by
// unnest(): one parameter per column instead of one per value, so a batch
// is one short statement whatever its size, and drizzle builds no
// per-value placeholders.

/** One element of an array literal. Text and JSON are quoted; uuids,
 * numbers and ISO timestamps hold no character an array literal treats
 * specially, so they go bare. */
function arrayElement(value: unknown, quoted: boolean): string {
  if (value === null || value === undefined) return "NULL";
  const text =
    typeof value === "string"
      ? value
      : value instanceof Date
        ? value.toISOString()
        : String(value);
  if (!quoted) return text;

  return text.includes('"') || text.includes("\\")
    ? `"${text.replace(/[\\"]/g, "\\$&")}"`
    : `"${text}"`;
}

/** The array literal of `values`; `{}` when every one is null, which
 * unnest() pads with nulls to the length of the longest array. */
function arrayLiteral(values: readonly unknown[], quoted: boolean): string {
  const elements = new Array<string>(values.length);
  let filled = false;
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i];
    if (value !== null && value !== undefined) filled = true;
    elements[i] = arrayElement(value, quoted);
  }

  return filled ? `{${elements.join(",")}}` : "{}";
}

type JsonColumn = keyof ContentJson;

const eventColumns = Object.entries(getTableColumns(events)).map(
  ([key, column]) => {
    // numeric(16, 8)[] is written numeric[]; the column keeps its scale.
    const type = column.getSQLType().replace(/\(.*\)$/, "");

    return {
      key: key as keyof typeof events.$inferInsert,
      name: column.name,
      type,
      json: type === "jsonb",
      quoted: type === "text" || type === "jsonb",
      // Columns every row of a batch shares (one actor, one source, one
      // arrival time) are sent once.
      shared: ["projectId", "agentId", "source", "receivedAt"].includes(key),
    };
  },
);
const eventColumnList = sql.raw(
  eventColumns.map((c) => `"${c.name}"`).join(", "),
);

// A column's values; JSON columns as the canonical text the digest was
// taken of (null stays SQL null).
function columnValues(
  rows: EventRow[],
  column: (typeof eventColumns)[number],
): unknown[] {
  if (!column.json) return rows.map((row) => row[column.key]);
  const key = column.key as JsonColumn;

  return rows.map((row) => (row[key] == null ? null : row.json[key]));
}

// What the rest of the transaction needs of a row it stored.
function storedFrom(row: EventRow): StoredEvent {
  return {
    id: row.id,
    projectId: row.projectId,
    sessionId: row.sessionId,
    agentId: row.agentId,
    goalId: row.goalId ?? null,
    taskId: row.taskId ?? null,
    status: row.status ?? "ok",
    type: row.type,
    name: row.name,
    model: row.model ?? null,
    costUsd: row.costUsd ?? null,
    costSource: row.costSource ?? "none",
    occurredAt: row.occurredAt,
    inputTokens: row.inputTokens ?? null,
    outputTokens: row.outputTokens ?? null,
    cacheReadTokens: row.cacheReadTokens ?? null,
    cacheWrite5mTokens: row.cacheWrite5mTokens ?? null,
    cacheWrite1hTokens: row.cacheWrite1hTokens ?? null,
  };
}

function byKey(a: EventRow, b: EventRow): number {
  return a.eventKey < b.eventKey ? -1 : a.eventKey > b.eventKey ? 1 : 0;
}

// Stores the rows whose key is new in one statement: each row's key is
// claimed in event_keys (keys are the reporting agent's own), and only the
// rows whose key this statement claimed are inserted. A key stored before,
// or by a batch that committed meanwhile, is not claimed: its row is a
// replay. A claimed key stays this transaction's until commit. Rows go in
// key order, so two batches never wait on each other's keys in opposite
// orders. Returns how many rows were inserted.
async function insertNewEvents(
  db: Database,
  rows: EventRow[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const sorted = [...rows].sort(byKey);
  const selected: SQL[] = [];
  const arrays: SQL[] = [];
  const names: string[] = [];
  for (const column of eventColumns) {
    const type = sql.raw(column.type);
    if (column.key === "sessionId") {
      // A batch holds few sessions: each row names its own by position.
      const sessions = [...new Set(sorted.map((row) => row.sessionId))];
      const positions = new Map(sessions.map((id, i) => [id, i + 1]));
      arrays.push(
        sql`${arrayLiteral(
          sorted.map((row) => positions.get(row.sessionId)),
          false,
        )}::integer[]`,
      );
      names.push("session_position");
      selected.push(
        sql`(${arrayLiteral(sessions, false)}::uuid[])[u.session_position]`,
      );
      continue;
    }
    if (column.shared) {
      const value = sorted[0][column.key];
      selected.push(
        sql`${value instanceof Date ? value.toISOString() : value}::${type}`,
      );
      continue;
    }
    arrays.push(
      sql`${arrayLiteral(columnValues(sorted, column), column.quoted)}::${type}[]`,
    );
    names.push(`"${column.name}"`);
    selected.push(sql.raw(`u."${column.name}"`));
  }
  // One batch is one agent's, in one project.
  const { projectId, agentId } = sorted[0];
  const [result] = await queryRows<{ inserted: number }>(
    db,
    sql`with u as materialized (
          select * from unnest(${sql.join(arrays, sql`, `)})
            as u(${sql.raw(names.join(", "))})
        ), claimed as (
          insert into event_keys
            (project_id, agent_id, event_key, event_id, occurred_at)
          select ${projectId}::uuid, ${agentId}::uuid, u.event_key, u.id,
            u.occurred_at
          from u
          on conflict do nothing
          returning event_id
        ), inserted as (
          insert into events (${eventColumnList})
          select ${sql.join(selected, sql`, `)}
          from u where u.id in (select event_id from claimed)
          returning 1
        )
        select count(*)::int as inserted from inserted`,
  );

  return Number(result.inserted);
}

// The rows whose key this transaction claimed, in batch order.
async function claimedRows(
  db: Database,
  rows: EventRow[],
): Promise<EventRow[]> {
  const { projectId, agentId } = rows[0];
  const claimed = await queryRows<{ event_id: string }>(
    db,
    sql`select event_id from event_keys
        where project_id = ${projectId} and agent_id = ${agentId}
          and event_key = any(${arrayLiteral(
            rows.map((r) => r.eventKey),
            true,
          )}::text[])`,
  );
  const ids = new Set(claimed.map((row) => row.event_id));

  return rows.filter((row) => ids.has(row.id));
}

// Writes the chain positions of stored rows again, after their chains were
// worked out anew without the replayed rows of their batch.
async function rewriteChainLinks(db: Database, rows: EventRow[]) {
  if (rows.length === 0) return;
  await db.execute(
    sql`update events e set chain_seq = u.seq, chain_hash = u.hash
        from unnest(
          ${arrayLiteral(
            rows.map((r) => r.id),
            false,
          )}::uuid[],
          ${arrayLiteral(
            rows.map((r) => r.occurredAt),
            false,
          )}::timestamptz[],
          ${arrayLiteral(
            rows.map((r) => r.chainSeq),
            false,
          )}::integer[],
          ${arrayLiteral(
            rows.map((r) => r.chainHash),
            true,
          )}::text[]) as u(id, occurred_at, seq, hash)
        where e.id = u.id and e.occurred_at = u.occurred_at`,
  );
}

// The statements that add the newly stored events to their sessions'
// totals. Increments (not recounts) keep totals right when two batches for
// one session commit at the same time. The session grade (grade.ts) is
// recomputed from the updated counts; the session row stays locked until
// commit, so no other batch grades it in between.
function sessionTotalUpdates(
  db: Database,
  stored: StoredEvent[],
  chains: Map<string, Chain>,
  flags: Map<string, Flag[]>,
): SQL[] {
  const totals = new Map<
    string,
    {
      count: number;
      errors: number;
      attempts: number;
      landed: number;
      flags: number;
      high: number;
      critical: number;
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
      attempts: 0,
      landed: 0,
      flags: 0,
      high: 0,
      critical: 0,
      unpriced: 0,
      cost: 0n,
      first: event.occurredAt,
      last: event.occurredAt,
      ended: null,
    };
    total.count += 1;
    if (event.status === "error") total.errors += 1;
    if (isAttempt(event)) total.attempts += 1;
    if (landsWork(event)) total.landed += 1;
    for (const flag of flags.get(event.id) ?? []) {
      total.flags += 1;
      if (flag.severity === "high") total.high += 1;
      if (flag.severity === "critical") total.critical += 1;
    }
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

  const updates: SQL[] = [];
  for (const [sessionId, total] of totals) {
    const s = agentSessions;
    const chain = chains.get(sessionId);
    if (!chain) throw new Error(`session ${sessionId} was not upserted`);
    // The grade from the counters as they will be: the row is locked
    // since the session upsert, so no other batch moves them meanwhile.
    const before = chain.counts;
    const graded = gradeSession({
      attemptCount: before.attemptCount + total.attempts,
      failedCount: before.failedCount + total.errors,
      landedCount: before.landedCount + total.landed,
      highFlagCount: before.highFlagCount + total.high,
      criticalFlagCount: before.criticalFlagCount + total.critical,
    });
    const update = db
      .update(s)
      .set({
        grade: graded.grade,
        gradeReasons: graded.reasons,
        eventCount: sql`${s.eventCount} + ${total.count}`,
        errorCount: sql`${s.errorCount} + ${total.errors}`,
        attemptCount: sql`${s.attemptCount} + ${total.attempts}`,
        landedCount: sql`${s.landedCount} + ${total.landed}`,
        highFlagCount: sql`${s.highFlagCount} + ${total.high}`,
        criticalFlagCount: sql`${s.criticalFlagCount} + ${total.critical}`,
        unpricedCount: sql`${s.unpricedCount} + ${total.unpriced}`,
        flagCount: sql`${s.flagCount} + ${total.flags}`,
        chainHead: chain.head,
        chainLength: chain.length,
        ...(chain.title
          ? { title: sql`coalesce(${s.title}, ${chain.title})` }
          : {}),
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
    updates.push(update.getSQL());
  }

  return updates;
}
