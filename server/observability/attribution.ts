import { and, desc, eq, inArray, lte, sql } from "drizzle-orm";
import type { Database } from "@/db/client";
import { taskLeases, tasks } from "@/db/schema";

// Which task (and so which goal) an event's spend belongs to: the task the
// event names, else the task its agent held at the event's time.

export interface TaskLink {
  taskId: string;
  goalId: string;
}

/** The project's tasks among `taskIds`, by id. */
export async function tasksInProject(
  db: Database,
  projectId: string,
  taskIds: string[],
): Promise<Map<string, TaskLink>> {
  const found = new Map<string, TaskLink>();
  if (taskIds.length === 0) return found;
  const rows = await db
    .select({ taskId: tasks.id, goalId: tasks.goalId })
    .from(tasks)
    .where(and(eq(tasks.projectId, projectId), inArray(tasks.id, taskIds)));
  for (const row of rows) found.set(row.taskId, row);

  return found;
}

/** The task an agent held at each of `times` (null when none), from one
 * query over the leases that overlap them: a lease counts from its claim
 * until it ended or expired, whichever came first, and the latest claim
 * wins (as taskHeldBy in server/orchestration/leases.ts decides it for
 * one moment). One query per batch keeps ingest from asking per event. */
export async function heldTasksAt(
  db: Database,
  agentId: string,
  times: Date[],
): Promise<Map<number, TaskLink | null>> {
  const held = new Map<number, TaskLink | null>();
  if (times.length === 0) return held;
  const millis = times.map((t) => t.getTime());
  const first = new Date(Math.min(...millis));
  const last = new Date(Math.max(...millis));
  const leases = await db
    .select({
      taskId: taskLeases.taskId,
      goalId: tasks.goalId,
      claimedAt: taskLeases.claimedAt,
      endedAt: taskLeases.endedAt,
      expiresAt: taskLeases.expiresAt,
    })
    .from(taskLeases)
    .innerJoin(tasks, eq(tasks.id, taskLeases.taskId))
    .where(
      and(
        eq(taskLeases.agentId, agentId),
        lte(taskLeases.claimedAt, last),
        sql`least(${taskLeases.endedAt}, ${taskLeases.expiresAt}) > ${first.toISOString()}::timestamptz`,
      ),
    )
    .orderBy(desc(taskLeases.claimedAt));
  for (const at of new Set(millis)) {
    const lease = leases.find((l) => {
      const end = Math.min(
        l.expiresAt.getTime(),
        l.endedAt?.getTime() ?? Number.POSITIVE_INFINITY,
      );

      return l.claimedAt.getTime() <= at && end > at;
    });
    held.set(at, lease ? { taskId: lease.taskId, goalId: lease.goalId } : null);
  }

  return held;
}
