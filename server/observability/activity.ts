import { and, desc, eq, gt, lte } from "drizzle-orm";
import type { Database } from "@/db/client";
import { agentSessions } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { logger } from "@/server/log";
import { newId, now } from "@/server/runtime";
import { storeEvents } from "./ingest";
import type { EventStatus, EventType } from "./model";

// What an agent does through Flotilla itself (claims a task, completes or
// fails it, asks the context layer, is refused by a guardrail) becomes an
// event of its session trace, beside what it reports, so one timeline
// shows the whole story. The session is, in order:
//   1. the one the agent names in the X-Flotilla-Session header (the same
//      id it reports events under, e.g. Claude Code's session_id);
//   2. else its session that was active in the last 30 minutes;
//   3. else a session of the day for its API calls.

type AgentActor = Extract<Actor, { kind: "agent" }>;

/** How long after its last event a session still counts as the one the
 * agent is working in. */
const ACTIVE_WINDOW_MS = 30 * 60_000;
const MAX_HINT_LENGTH = 200;

export interface ActivityEvent {
  type: EventType;
  name: string;
  status?: EventStatus;
  taskId?: string | null;
  input?: unknown;
  output?: unknown;
  attributes?: Record<string, unknown>;
}

async function activitySession(
  db: Database,
  actor: AgentActor,
  at: Date,
): Promise<{ id: string; title: string | null }> {
  const hint = actor.sessionHint?.trim();
  if (hint && hint.length <= MAX_HINT_LENGTH) return { id: hint, title: null };
  const [recent] = await db
    .select({ externalId: agentSessions.externalId })
    .from(agentSessions)
    .where(
      and(
        eq(agentSessions.agentId, actor.agentId),
        // Written a moment later: a session begun after the action is not
        // the one it happened in.
        lte(agentSessions.startedAt, at),
        gt(
          agentSessions.lastEventAt,
          new Date(at.getTime() - ACTIVE_WINDOW_MS),
        ),
      ),
    )
    .orderBy(desc(agentSessions.lastEventAt))
    .limit(1);
  if (recent) return { id: recent.externalId, title: null };
  const day = at.toISOString().slice(0, 10);

  return {
    id: `flotilla-api-${day}`,
    title: `${actor.agentName}: Flotilla API calls on ${day}`,
  };
}

interface Pending {
  db: Database;
  actor: AgentActor;
  at: Date;
  items: ActivityEvent[];
}

/** How often queued activity is written, and how much may wait. */
const FLUSH_MS = 200;
const FLUSH_AT = 2000;

let queue: Pending[] = [];
let timer: ReturnType<typeof setTimeout> | null = null;
let flushing: Promise<void> = Promise.resolve();

/** Queues `items` for the agent's session trace, stamped now. They are
 * written within FLUSH_MS, a batch per agent, off the path of the call
 * that did the work, so claims and lookups wait for no trace write. A
 * write that fails is logged as an error. */
export function recordActivity(
  db: Database,
  actor: Actor,
  items: ActivityEvent[],
): void {
  if (actor.kind !== "agent" || items.length === 0) return;
  queue.push({ db, actor, at: now(), items });
  const size = queue.reduce((n, p) => n + p.items.length, 0);
  if (size >= FLUSH_AT) {
    void flushActivity();
    return;
  }
  if (!timer) {
    timer = setTimeout(() => void flushActivity(), FLUSH_MS);
    timer.unref?.();
  }
}

/** Writes everything queued so far; resolves when it is stored. */
export function flushActivity(): Promise<void> {
  if (timer) {
    clearTimeout(timer);
    timer = null;
  }
  const batch = queue;
  queue = [];
  flushing = flushing.then(() => writeActivity(batch));

  return flushing;
}

async function writeActivity(batch: Pending[]): Promise<void> {
  // One ingest per database, agent and named session.
  const groups = new Map<string, Pending[]>();
  for (const pending of batch) {
    const { actor } = pending;
    const key = `${databaseId(pending.db)}:${actor.agentId}:${actor.sessionHint ?? ""}`;
    groups.set(key, [...(groups.get(key) ?? []), pending]);
  }
  for (const pendings of groups.values()) {
    await writeGroup(pendings[0].db, pendings[0].actor, pendings);
  }
}

const databaseIds = new WeakMap<Database, number>();
let lastDatabaseId = 0;

function databaseId(db: Database): number {
  const known = databaseIds.get(db);
  if (known !== undefined) return known;
  lastDatabaseId += 1;
  databaseIds.set(db, lastDatabaseId);

  return lastDatabaseId;
}

async function writeGroup(
  db: Database,
  actor: AgentActor,
  pendings: Pending[],
): Promise<void> {
  const names = pendings.flatMap((p) => p.items.map((i) => i.name));
  try {
    const session = await activitySession(db, actor, pendings[0].at);
    let index = 0;
    const result = await storeEvents(db, actor, "flotilla", {
      items: pendings.flatMap((pending) =>
        pending.items.map((item) => ({
          index: index++,
          event: {
            key: `flotilla:${newId()}`,
            sessionId: session.id,
            sessionTitle: session.title,
            type: item.type,
            name: item.name,
            status: item.status ?? "ok",
            occurredAt: pending.at,
            taskId: item.taskId ?? null,
            input: item.input,
            output: item.output,
            attributes: item.attributes ?? null,
          },
        })),
      ),
      rejections: [],
    });
    if (result.rejected > 0) {
      logger.error(
        { agentId: actor.agentId, rejections: result.rejections },
        "agent activity not recorded in its session trace",
      );
    }
  } catch (error) {
    logger.error(
      { err: error, agentId: actor.agentId, names },
      "could not record agent activity in its session trace",
    );
  }
}
