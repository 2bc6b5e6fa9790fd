import {
  and,
  count,
  desc,
  eq,
  gt,
  gte,
  inArray,
  isNull,
  lte,
  min,
  or,
  sql,
} from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client";
import { agentSessions, agents, eventFlags, events } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { invalidInput } from "@/server/errors";
import { parseInput } from "@/server/input";
import { flagSeverities, type FlagSeverity } from "./flags";
import { grades } from "./grade";
import { boundedDate, isoTimeWithinYears } from "./time-bounds";
import {
  findProjectSession,
  MAX_EVENT_PAGE,
  readEventPage,
  type EventFlag,
  type TimelineEvent,
} from "./session-events";

// Sessions as people read them: the list, and one session's header (totals,
// time span, grade) with its first events in time order. Further events
// are read a page at a time (session-events.ts), where secrets in what
// events carry are masked, so no screen or API shows them.

const cost = z.coerce
  .number({ error: "Must be a number of US dollars" })
  .min(0, "Must be 0 or more")
  .max(1e12, "Must be at most 1e12");

/** The list's filters; each narrows the list, all of them together. */
export const listSessionsInput = z
  .object({
    project: z.string().min(1),
    /** An agent's id or name. */
    agent: z.string().trim().min(1).max(200).optional(),
    /** Sessions with an event attributed to this goal, or this task. */
    goal: z.uuid("Goal must be a goal id").optional(),
    task: z.uuid("Task must be a task id").optional(),
    /** Sessions with at least one red flag. */
    flagged: z.boolean().optional(),
    /** Sessions with a flag of this rule (shell.force-push, custom.x). */
    flagRule: z.string().trim().min(1).max(100).optional(),
    /** Sessions with a flag of this severity or worse. */
    minSeverity: z
      .enum(flagSeverities, {
        error: "Severity must be low, medium, high or critical",
      })
      .optional(),
    /** A letter grade, or "ungraded" for sessions without one. */
    grade: z
      .enum([...grades, "ungraded"], {
        error: "Grade must be A, B, C, D, F or ungraded",
      })
      .optional(),
    minCost: cost.optional(),
    maxCost: cost.optional(),
    /** Sessions active in [from, to): their last event is at or after
     * `from` and they started before `to`. */
    from: boundedDate.optional(),
    to: boundedDate.optional(),
    limit: z.number().int().min(1).max(200).default(50),
    /** Where the previous page ended (its nextCursor). */
    cursor: z.string().max(200).nullish(),
  })
  .superRefine((value, ctx) => {
    if (
      value.minCost !== undefined &&
      value.maxCost !== undefined &&
      value.minCost > value.maxCost
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["maxCost"],
        message: "Must be at least the minimum cost",
      });
    }
    if (value.from && value.to && value.from >= value.to) {
      ctx.addIssue({
        code: "custom",
        path: ["to"],
        message: "Must be after the start of the range",
      });
    }
  });

export type SessionFilters = Omit<
  z.input<typeof listSessionsInput>,
  "project" | "limit" | "cursor"
>;

export const sessionDetailInput = z.object({
  project: z.string().min(1),
  /** Flotilla's session id, or the id the client used for it. */
  sessionId: z.string().min(1).max(300),
  /** Events returned with the header, from the first; the rest are read
   * a page at a time (listSessionEvents). */
  limit: z.number().int().min(0).max(20_000).default(MAX_EVENT_PAGE),
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
  /** Whether any event has a cost (computed or reported): without one,
   * costUsd is 0 for want of prices, not because the work was free. */
  priced: boolean;
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
  // A cost above zero answers at once (and stays true after retention has
  // pruned the session's events); only a zero total looks for a priced
  // event that really cost nothing.
  priced: sql<boolean>`case when ${agentSessions.costUsd} > 0 then true
    else exists (select 1 from ${events}
      where ${events.sessionId} = ${agentSessions.id}
      and ${events.costSource} in ('computed', 'reported')) end`,
};

type SummaryRow = Omit<SessionSummary, "costUsd"> & { costUsd: string };

function toSummary(row: SummaryRow): SessionSummary {
  return { ...row, costUsd: Number(row.costUsd) };
}

/** A row of the sessions list: the totals, the grade and the flags. */
export interface SessionListItem extends SessionSummary {
  /** Null for a session not graded (none of its events arrived since
   * grades were kept). */
  grade: string | null;
  gradeReasons: string[];
  /** Red flags stored for the session's events, by severity. */
  flagsBySeverity: Record<FlagSeverity, number>;
}

export interface SessionListPage {
  sessions: SessionListItem[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

// A cursor is the last row's position in the order (last event, id).
function encodeCursor(row: { lastEventAt: Date; id: string }): string {
  return Buffer.from(`${row.lastEventAt.toISOString()}|${row.id}`).toString(
    "base64url",
  );
}

function decodeCursor(cursor: string): { lastEventAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, "base64url").toString().split("|");
  // Only a time this list writes: a real one, within the years events
  // may have.
  const lastEventAt = isoTimeWithinYears(at ?? "");
  if (!lastEventAt || !z.uuid().safeParse(id).success) {
    throw invalidInput("Invalid input: cursor: not a cursor of this list", [
      { path: "cursor", message: "Not a cursor of this list" },
    ]);
  }

  return { lastEventAt, id };
}

function severitiesFrom(least: FlagSeverity): FlagSeverity[] {
  return flagSeverities.slice(flagSeverities.indexOf(least));
}

/** The project's sessions, latest activity first, a page at a time. */
export async function listSessions(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<SessionListPage> {
  const values = parseInput(listSessionsInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );
  const s = agentSessions;
  const after = values.cursor ? decodeCursor(values.cursor) : null;
  const sessionsWithEvents = (where: ReturnType<typeof eq>) =>
    inArray(
      s.id,
      db
        .select({ id: events.sessionId })
        .from(events)
        .where(and(eq(events.projectId, project.id), where)),
    );
  const sessionsWithFlags = (where: ReturnType<typeof eq>) =>
    inArray(
      s.id,
      db
        .select({ id: eventFlags.sessionId })
        .from(eventFlags)
        .where(and(eq(eventFlags.projectId, project.id), where)),
    );
  const agentIsId = values.agent && z.uuid().safeParse(values.agent).success;

  const rows = await db
    .select({
      ...summaryColumns,
      grade: s.grade,
      gradeReasons: s.gradeReasons,
    })
    .from(s)
    .innerJoin(agents, eq(agents.id, s.agentId))
    .where(
      and(
        eq(s.projectId, project.id),
        values.agent
          ? agentIsId
            ? eq(s.agentId, values.agent)
            : eq(agents.name, values.agent)
          : undefined,
        values.goal
          ? sessionsWithEvents(eq(events.goalId, values.goal))
          : undefined,
        values.task
          ? sessionsWithEvents(eq(events.taskId, values.task))
          : undefined,
        values.flagged ? gt(s.flagCount, 0) : undefined,
        values.flagRule
          ? sessionsWithFlags(eq(eventFlags.rule, values.flagRule))
          : undefined,
        values.minSeverity
          ? sessionsWithFlags(
              inArray(eventFlags.severity, severitiesFrom(values.minSeverity)),
            )
          : undefined,
        values.grade === "ungraded"
          ? isNull(s.grade)
          : values.grade
            ? eq(s.grade, values.grade)
            : undefined,
        values.minCost !== undefined
          ? gte(s.costUsd, String(values.minCost))
          : undefined,
        values.maxCost !== undefined
          ? lte(s.costUsd, String(values.maxCost))
          : undefined,
        values.from ? gte(s.lastEventAt, values.from) : undefined,
        values.to
          ? sql`${s.startedAt} < ${values.to.toISOString()}::timestamptz`
          : undefined,
        after
          ? sql`(${s.lastEventAt}, ${s.id}) < (${after.lastEventAt.toISOString()}::timestamptz, ${after.id}::uuid)`
          : undefined,
      ),
    )
    .orderBy(desc(s.lastEventAt), desc(s.id))
    .limit(values.limit + 1);
  const page = rows.slice(0, values.limit);

  const bySeverity = new Map<string, Record<FlagSeverity, number>>();
  for (const row of page) {
    bySeverity.set(row.id, { low: 0, medium: 0, high: 0, critical: 0 });
  }
  const flagged = page.filter((row) => row.flagCount > 0).map((row) => row.id);
  if (flagged.length > 0) {
    const counted = await db
      .select({
        sessionId: eventFlags.sessionId,
        severity: eventFlags.severity,
        count: count(),
      })
      .from(eventFlags)
      .where(inArray(eventFlags.sessionId, flagged))
      .groupBy(eventFlags.sessionId, eventFlags.severity);
    for (const row of counted) {
      const counts = bySeverity.get(row.sessionId);
      if (counts && row.severity in counts) {
        counts[row.severity as FlagSeverity] = row.count;
      }
    }
  }
  const last = page.at(-1);

  return {
    sessions: page.map(({ grade, gradeReasons, ...row }) => ({
      ...toSummary(row),
      grade,
      gradeReasons: gradeReasons ?? [],
      flagsBySeverity: bySeverity.get(row.id) ?? {
        low: 0,
        medium: 0,
        high: 0,
        critical: 0,
      },
    })),
    nextCursor: rows.length > values.limit && last ? encodeCursor(last) : null,
  };
}

export interface TokenTotals {
  input: number;
  output: number;
  cacheRead: number;
  /** Cache writes of both lifetimes (5 minutes and 1 hour). */
  cacheWrite: number;
}

/** An event as the session's readers see it (secrets masked). */
export type SessionEvent = TimelineEvent;
export type { EventFlag };

export interface SessionDetail {
  session: SessionSummary;
  /** The session's grade and why, once it has one. */
  grade: { grade: string; reasons: string[] } | null;
  /** From the first event's start to the end of the last one to finish;
   * null while the session has no events. */
  span: { start: Date; end: Date } | null;
  /** Tokens of all the session's events, by kind. */
  tokens: TokenTotals;
  /** The first `limit` events in time order. */
  events: SessionEvent[];
  /** True when the session has more events than were returned. */
  truncated: boolean;
  /** Where listSessionEvents continues after `events`; null at the end. */
  nextCursor: string | null;
  /** The chain length the totals count up to: events that arrive later
   * come from listSessionUpdates after this position. */
  position: number;
}

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
  const { id } = await findProjectSession(db, project.id, sessionId);
  const { session, grade, chainLength } = await readSessionHeader(db, id);
  const [span] = await db
    .select({
      start: min(events.occurredAt),
      // The end of the last event to finish, not the last to start.
      end: sql<Date | string | null>`max(${events.occurredAt}
        + coalesce(${events.durationMs}, 0) * interval '1 millisecond')`,
      input: sql<string | null>`sum(${events.inputTokens})`,
      output: sql<string | null>`sum(${events.outputTokens})`,
      cacheRead: sql<string | null>`sum(${events.cacheReadTokens})`,
      cacheWrite: sql<
        string | null
      >`sum(coalesce(${events.cacheWrite5mTokens}, 0)
        + coalesce(${events.cacheWrite1hTokens}, 0))`,
    })
    .from(events)
    // Only events up to the header's position: later ones reach a live
    // page through listSessionUpdates, which adds them itself.
    .where(
      and(
        eq(events.sessionId, id),
        or(isNull(events.chainSeq), lte(events.chainSeq, chainLength)),
      ),
    );

  // The read API may ask for more than a page; those are read page by
  // page like the console's timeline does.
  const loaded: SessionEvent[] = [];
  let nextCursor: string | null = null;
  while (loaded.length < limit) {
    const page = await readEventPage(
      db,
      { id, flagCount: session.flagCount },
      { limit: Math.min(MAX_EVENT_PAGE, limit - loaded.length) },
      nextCursor,
    );
    loaded.push(...page.events);
    nextCursor = page.nextCursor;
    if (!nextCursor) break;
  }

  return {
    session,
    grade,
    span:
      span?.start && span.end
        ? { start: span.start, end: new Date(span.end) }
        : null,
    tokens: {
      input: Number(span?.input ?? 0),
      output: Number(span?.output ?? 0),
      cacheRead: Number(span?.cacheRead ?? 0),
      cacheWrite: Number(span?.cacheWrite ?? 0),
    },
    events: loaded,
    truncated: limit === 0 ? session.eventCount > 0 : nextCursor !== null,
    nextCursor,
    position: chainLength,
  };
}

/** A session's totals and grade, read in one statement with its chain
 * length, so eventCount counts exactly the events up to that position. */
export async function readSessionHeader(
  db: Database,
  id: string,
): Promise<{
  session: SessionSummary;
  grade: SessionDetail["grade"];
  chainLength: number;
}> {
  const [{ grade, gradeReasons, chainLength, ...row }] = await db
    .select({
      ...summaryColumns,
      grade: agentSessions.grade,
      gradeReasons: agentSessions.gradeReasons,
      chainLength: agentSessions.chainLength,
    })
    .from(agentSessions)
    .innerJoin(agents, eq(agents.id, agentSessions.agentId))
    .where(eq(agentSessions.id, id));

  return {
    session: toSummary(row),
    grade: grade ? { grade, reasons: gradeReasons ?? [] } : null,
    chainLength,
  };
}
