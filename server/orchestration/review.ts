import { inTransaction, type Database } from "@/db/client";
import { conflict, notFound } from "@/server/errors";
import type { Actor } from "@/server/identity/actor";
import { recordAudit } from "@/server/identity/audit";
import { parseInput } from "@/server/input";
import { now } from "@/server/runtime";
import { promoteDependents } from "./dependencies";
import { reviewTaskInput } from "./schemas";
import { transitionBy, transitionTask } from "./states";
import { loadTaskView, requireRoleIn, type TaskView } from "./views";

// Review of finished work. An agent hands a task in for review (POST
// /api/agent/v1/tasks/{id}/review, which ends its lease); an operator then
// accepts it (done, and what depended on it may start) or sends it back
// to ready with a comment for the next claim.

export async function reviewTask(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<TaskView> {
  const values = parseInput(reviewTaskInput, input);
  const before = await loadTaskView(db, values.taskId);
  await requireRoleIn(db, actor, before.projectId, "operator", () =>
    notFound("Task", values.taskId),
  );
  if (before.status !== "in_review") {
    throw conflict(
      `Task '${before.title}' is not waiting for review (it is ${before.status})`,
      { status: before.status },
    );
  }
  const accept = values.decision === "accept";
  const at = now();
  await inTransaction(db, async (tx) => {
    // Only if nobody else decided since the task was read.
    await transitionTask(tx, before, {
      from: "in_review",
      to: accept ? "done" : "ready",
      by: transitionBy(actor),
      reason: values.comment || (accept ? "accepted in review" : "sent back"),
      at,
      leaseVersion: before.leaseVersion,
      set: accept ? { completedAt: at } : {},
    });
    if (accept) await promoteDependents(tx, before.id, at);
    await recordAudit(tx, actor, {
      projectId: before.projectId,
      action: accept ? "task.review.accept" : "task.review.return",
      targetType: "task",
      targetId: before.id,
      details: { title: before.title, comment: values.comment ?? null },
    });
  });

  return loadTaskView(db, before.id);
}
