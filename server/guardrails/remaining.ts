import { and, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client";
import { events, tasks } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { parseInput } from "@/server/input";
import { getGoal, getTask, type TaskView } from "@/server/orchestration";

// What an agent may still spend: on a task, its estimate less the cost of
// the events attributed to it; on the task's goal, the goal's budget less
// its spend (the hard limit claims enforce, see budget.ts).

type AgentActor = Extract<Actor, { kind: "agent" }>;

export const budgetRemainingInput = z
  .object({ taskId: z.uuid("Must be a UUID").optional() })
  .strict();

export interface TaskRemaining {
  task: {
    id: string;
    title: string;
    status: string;
    estimateUsd: number | null;
    spendUsd: number;
    /** Estimate less spend; null when the task has no estimate. */
    remainingUsd: number | null;
  };
  goal: {
    id: string;
    title: string;
    budgetUsd: number | null;
    spendUsd: number;
    /** Budget less spend, never below 0; null when there is no budget. */
    remainingUsd: number | null;
    overBudget: boolean;
  };
}

/** Spend to date of each task, in USD; tasks without events spent 0. */
export async function taskSpends(
  db: Database,
  taskIds: string[],
): Promise<Map<string, number>> {
  const spends = new Map<string, number>(taskIds.map((id) => [id, 0]));
  if (taskIds.length === 0) return spends;
  const rows = await db
    .select({
      taskId: events.taskId,
      spend: sql<string>`coalesce(sum(${events.costUsd}), 0)`,
    })
    .from(events)
    .where(inArray(events.taskId, taskIds))
    .groupBy(events.taskId);
  for (const row of rows) {
    if (row.taskId) spends.set(row.taskId, Number(row.spend));
  }

  return spends;
}

/**
 * The remaining budget of one task of the agent's project and of its goal;
 * without a task, of every task the agent holds now (none: an empty list).
 */
export async function budgetRemaining(
  db: Database,
  actor: AgentActor,
  input: unknown = {},
): Promise<{ tasks: TaskRemaining[] }> {
  const values = parseInput(budgetRemainingInput, input ?? {});
  let views: TaskView[];
  if (values.taskId) {
    views = [await getTask(db, actor, { taskId: values.taskId })];
  } else {
    const held = await db
      .select({ id: tasks.id })
      .from(tasks)
      .where(
        and(
          eq(tasks.projectId, actor.projectId),
          eq(tasks.holderAgentId, actor.agentId),
        ),
      );
    views = await Promise.all(
      held.map((row) => getTask(db, actor, { taskId: row.id })),
    );
  }
  const spends = await taskSpends(
    db,
    views.map((task) => task.id),
  );
  const goals = new Map(
    await Promise.all(
      [...new Set(views.map((task) => task.goalId))].map(
        async (goalId) =>
          [goalId, await getGoal(db, actor, { goalId })] as const,
      ),
    ),
  );

  return {
    tasks: views.map((task) => {
      const goal = goals.get(task.goalId)!;
      const spendUsd = spends.get(task.id) ?? 0;

      return {
        task: {
          id: task.id,
          title: task.title,
          status: task.status,
          estimateUsd: task.estimateUsd,
          spendUsd,
          remainingUsd:
            task.estimateUsd === null ? null : task.estimateUsd - spendUsd,
        },
        goal: {
          id: goal.id,
          title: goal.title,
          budgetUsd: goal.budgetUsd,
          spendUsd: goal.spendUsd,
          remainingUsd:
            goal.budgetUsd === null
              ? null
              : Math.max(0, goal.budgetUsd - goal.spendUsd),
          overBudget: goal.overBudget,
        },
      };
    }),
  };
}
