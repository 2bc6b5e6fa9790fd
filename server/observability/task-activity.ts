import { desc, eq, sql } from "drizzle-orm";
import type { Database } from "@/db/client";
import { agentSessions, agents, events, tasks } from "@/db/schema";
import { notFound } from "@/server/errors";
import type { Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { parseInput } from "@/server/input";
import { z } from "zod";

// What a task has cost so far and which sessions worked on it. Spend is
// attributed to a task at ingest (the task an event names, else the task
// its agent held at the time), so both come from events carrying its id.

export const taskActivityInput = z.object({ taskId: z.uuid("Must be a UUID") });

export interface TaskSessionView {
  id: string;
  externalId: string;
  title: string | null;
  agentName: string;
  /** Events of this session attributed to the task, and their cost. */
  eventCount: number;
  costUsd: number;
  lastEventAt: Date;
}

export interface TaskActivity {
  costUsd: number;
  eventCount: number;
  /** Events that used a model but could not be priced. */
  unpricedCount: number;
  sessions: TaskSessionView[];
}

const SESSION_LIMIT = 50;

export async function taskActivity(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<TaskActivity> {
  const { taskId } = parseInput(taskActivityInput, input);
  const [task] = await db
    .select({ projectId: tasks.projectId })
    .from(tasks)
    .where(eq(tasks.id, taskId))
    .limit(1);
  if (!task || (actor.kind === "agent" && actor.projectId !== task.projectId)) {
    throw notFound("Task", taskId);
  }
  await requireProjectRole(db, actor, task.projectId, "viewer");

  const [totals] = await db
    .select({
      costUsd: sql<string>`coalesce(sum(${events.costUsd}), 0)`,
      eventCount: sql<number>`count(*)`,
      unpricedCount: sql<number>`count(*) filter (where
        ${events.costSource} = 'unpriced')`,
    })
    .from(events)
    .where(eq(events.taskId, taskId));
  const sessions = await db
    .select({
      id: agentSessions.id,
      externalId: agentSessions.externalId,
      title: agentSessions.title,
      agentName: agents.name,
      eventCount: sql<number>`count(${events.id})`,
      costUsd: sql<string>`coalesce(sum(${events.costUsd}), 0)`,
      lastEventAt: sql<Date>`max(${events.occurredAt})`,
    })
    .from(events)
    .innerJoin(agentSessions, eq(agentSessions.id, events.sessionId))
    .innerJoin(agents, eq(agents.id, agentSessions.agentId))
    .where(eq(events.taskId, taskId))
    .groupBy(agentSessions.id, agents.name)
    .orderBy(desc(sql`max(${events.occurredAt})`))
    .limit(SESSION_LIMIT);

  return {
    costUsd: Number(totals?.costUsd ?? 0),
    eventCount: Number(totals?.eventCount ?? 0),
    unpricedCount: Number(totals?.unpricedCount ?? 0),
    sessions: sessions.map((s) => ({
      ...s,
      eventCount: Number(s.eventCount),
      costUsd: Number(s.costUsd),
      lastEventAt: new Date(s.lastEventAt),
    })),
  };
}
