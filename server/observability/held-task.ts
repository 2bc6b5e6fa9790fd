import { and, desc, eq, gt, isNotNull } from "drizzle-orm";
import type { Database } from "@/db/client";
import { tasks } from "@/db/schema";
import type { TaskLink } from "./attribution";

// Stand-in until orchestration provides taskHeldBy(db, agentId, at): the
// task whose current lease is this agent's and covers `at`. Known
// shortcoming: without a lease history, a task the agent held earlier and
// has since given up is not found, so late-arriving events go unattributed.
export async function heldTaskAt(
  db: Database,
  agentId: string,
  at: Date,
): Promise<TaskLink | null> {
  const [row] = await db
    .select({ taskId: tasks.id, goalId: tasks.goalId })
    .from(tasks)
    .where(
      and(
        eq(tasks.holderAgentId, agentId),
        isNotNull(tasks.leaseExpiresAt),
        gt(tasks.leaseExpiresAt, at),
      ),
    )
    .orderBy(desc(tasks.updatedAt))
    .limit(1);

  return row ?? null;
}
