import { and, eq, inArray } from "drizzle-orm";
import type { Database } from "@/db/client";
import { tasks } from "@/db/schema";
import { taskHeldBy } from "@/server/orchestration/leases";

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

/** Looks up held tasks for many events, asking once per distinct time. */
export function heldTaskResolver(db: Database, agentId: string) {
  const cache = new Map<number, Promise<TaskLink | null>>();

  return (at: Date): Promise<TaskLink | null> => {
    const key = at.getTime();
    let pending = cache.get(key);
    if (!pending) {
      pending = taskHeldBy(db, agentId, at).then((held) =>
        held ? { taskId: held.id, goalId: held.goalId } : null,
      );
      cache.set(key, pending);
    }

    return pending;
  };
}
