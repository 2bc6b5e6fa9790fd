import type { Database } from "@/db/client";
import { notFound } from "@/server/errors";
import type { Actor } from "@/server/identity/actor";
import { parseInput } from "@/server/input";
import { explainSkips, type SkipReason } from "./leases";
import { taskIdInput } from "./schemas";
import { loadTaskView, requireRoleIn } from "./views";

// "Why is this task not being claimed?" on the task page: the same rules a
// claim applies, read for one waiting task from no particular agent's view.

export interface ClaimExplanation {
  /** Whether the task is waiting to be claimed (ready or draft). */
  waiting: boolean;
  /** What stops it, or reason "none" when the next claim can take it. */
  skip: Pick<SkipReason, "reason" | "message"> | null;
}

export async function explainTaskClaim(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<ClaimExplanation> {
  const { taskId } = parseInput(taskIdInput, input);
  const task = await loadTaskView(db, taskId);
  await requireRoleIn(db, actor, task.projectId, "viewer", () =>
    notFound("Task", taskId),
  );
  if (task.status !== "ready" && task.status !== "draft") {
    return { waiting: false, skip: null };
  }
  const [skip] = await explainSkips(db, task.projectId, { taskId, limit: 1 });

  return {
    waiting: true,
    skip: skip ? { reason: skip.reason, message: skip.message } : null,
  };
}
