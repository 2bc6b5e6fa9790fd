import { and, asc, desc, eq, lt, or } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client";
import {
  agentSessions,
  agents,
  eventFlags,
  events,
  goals,
  tasks,
} from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { notFound } from "@/server/errors";
import { parseInput } from "@/server/input";
import { maskSecrets, maskValue } from "./flags";

// Sessions as people read them: the list, and one session with its events
// in time order and their red flags. Secrets in what events carry are
// masked here, so no screen or API shows them.

export const listSessionsInput = z.object({
  project: z.string().min(1),
  limit: z.number().int().min(1).max(200).default(50),
  /** Sessions whose last event is older than this, to page back. */
  before: z.coerce.date().optional(),
});

export const sessionDetailInput = z.object({
  project: z.string().min(1),
  /** Flotilla's session id, or the id the client used for it. */
  sessionId: z.string().min(1).max(300),
  limit: z.number().int().min(1).max(20_000).default(5_000),
});

export interface SessionSummary {
  id: string;
  externalId: string;
  agentId: string;
  agentName: string;
  source: string;
  title: string | null;
  startedAt: Date;
  lastEventAt: Date;
  endedAt: Date | null;
  eventCount: number;
  errorCount: number;
  /** Sum of priced events; see unpricedCount for events with no price. */
  costUsd: number;
  unpricedCount: number;
  /** Red flags raised on the session's events. */
  flagCount: number;
}

const summaryColumns = {
  id: agentSessions.id,
  externalId: agentSessions.externalId,
  agentId: agentSessions.agentId,
  agentName: agents.name,
  source: agentSessions.source,
  title: agentSessions.title,
  startedAt: agentSessions.startedAt,
  lastEventAt: agentSessions.lastEventAt,
  endedAt: agentSessions.endedAt,
  eventCount: agentSessions.eventCount,
  errorCount: agentSessions.errorCount,
  costUsd: agentSessions.costUsd,
  unpricedCount: agentSessions.unpricedCount,
  flagCount: agentSessions.flagCount,
};

type SummaryRow = Omit<SessionSummary, "costUsd"> & { costUsd: string };

function toSummary(row: SummaryRow): SessionSummary {
  return { ...row, costUsd: Number(row.costUsd) };
}

export async function listSessions(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<SessionSummary[]> {
  const { project: slug, limit, before } = parseInput(listSessionsInput, input);
  const { project } = await requireProjectRole(db, actor, slug, "viewer");
  const rows = await db
    .select(summaryColumns)
    .from(agentSessions)
    .innerJoin(agents, eq(agents.id, agentSessions.agentId))
    .where(
      and(
        eq(agentSessions.projectId, project.id),
        before ? lt(agentSessions.lastEventAt, before) : undefined,
      ),
    )
    .orderBy(desc(agentSessions.lastEventAt))
    .limit(limit);

  return rows.map(toSummary);
}

export interface SessionEvent {
  id: string;
  eventKey: string;
  source: string;
  type: string;
  name: string;
  status: string;
  occurredAt: Date;
  durationMs: number | null;
  traceId: string | null;
  spanId: string | null;
  parentSpanId: string | null;
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
  costUsd: number | null;
  costSource: string;
  input: unknown;
  output: unknown;
  attributes: Record<string, unknown> | null;
  flags: EventFlag[];
}

export interface EventFlag {
  rule: string;
  severity: string;
  excerpt: string;
}

export interface SessionDetail {
  session: SessionSummary;
  events: SessionEvent[];
  /** True when the session has more events than were returned. */
  truncated: boolean;
}

const uuidPattern =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function getSession(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<SessionDetail> {
  const {
    project: slug,
    sessionId,
    limit,
  } = parseInput(sessionDetailInput, input);
  const { project } = await requireProjectRole(db, actor, slug, "viewer");
  const byId = uuidPattern.test(sessionId)
    ? or(
        eq(agentSessions.id, sessionId),
        eq(agentSessions.externalId, sessionId),
      )
    : eq(agentSessions.externalId, sessionId);
  const [session] = await db
    .select(summaryColumns)
    .from(agentSessions)
    .innerJoin(agents, eq(agents.id, agentSessions.agentId))
    .where(and(eq(agentSessions.projectId, project.id), byId))
    .limit(1);
  if (!session) throw notFound("Session", sessionId);

  const rows = await db
    .select({
      id: events.id,
      eventKey: events.eventKey,
      source: events.source,
      type: events.type,
      name: events.name,
      status: events.status,
      occurredAt: events.occurredAt,
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
    })
    .from(events)
    .leftJoin(tasks, eq(tasks.id, events.taskId))
    .leftJoin(goals, eq(goals.id, events.goalId))
    .where(eq(events.sessionId, session.id))
    .orderBy(asc(events.occurredAt), asc(events.receivedAt), asc(events.id))
    .limit(limit + 1);

  const flagsByEvent = new Map<string, EventFlag[]>();
  if (session.flagCount > 0) {
    const flagRows = await db
      .select({
        eventId: eventFlags.eventId,
        rule: eventFlags.rule,
        severity: eventFlags.severity,
        excerpt: eventFlags.excerpt,
      })
      .from(eventFlags)
      .where(eq(eventFlags.sessionId, session.id))
      .orderBy(asc(eventFlags.rule));
    for (const { eventId, ...flag } of flagRows) {
      const list = flagsByEvent.get(eventId) ?? [];
      list.push({ ...flag, excerpt: maskSecrets(flag.excerpt) });
      flagsByEvent.set(eventId, list);
    }
  }

  return {
    session: toSummary(session),
    events: rows.slice(0, limit).map((row) => ({
      ...row,
      costUsd: row.costUsd === null ? null : Number(row.costUsd),
      input: maskValue(row.input),
      output: maskValue(row.output),
      attributes: row.attributes
        ? (maskValue(row.attributes) as Record<string, unknown>)
        : null,
      flags: flagsByEvent.get(row.id) ?? [],
    })),
    truncated: rows.length > limit,
  };
}
