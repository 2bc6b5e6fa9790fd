import { and, eq, isNull } from "drizzle-orm";
import { type Database, inTransaction } from "@/db/client";
import { taskLeases, tasks } from "@/db/schema";
import { conflict, invalidInput, notFound } from "@/server/errors";
import { requireProjectRole } from "@/server/identity/access";
import { actorLabel, type Actor } from "@/server/identity/actor";
import { recordAudit } from "@/server/identity/audit";
import { parseInput } from "@/server/input";
import { newId, now } from "@/server/runtime";
import {
  createTaskInput,
  listTasksInput,
  operatorTaskInput,
  taskIdInput,
} from "./schemas";
import {
  findGoalRow,
  loadTaskView,
  requireRoleIn,
  selectTaskViews,
  type TaskView,
} from "./views";

// Tasks: units of work under a goal, with a priority and a file scope.
// Agents create them in their own project; operators create, release and
// cancel them from the console.

export async function createTask(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<TaskView> {
  const values = parseInput(createTaskInput, input);
  const goal = await findGoalRow(db, values.goalId);
  await requireRoleIn(db, actor, goal.projectId, "operator", () =>
    notFound("Goal", values.goalId),
  );
  if (goal.status === "done") {
    throw invalidInput(`Goal '${goal.title}' is done; it takes no new tasks`, [
      { path: "goalId", message: "This goal is done" },
    ]);
  }
  const at = now();
  const id = newId();
  await inTransaction(db, async (tx) => {
    await tx.insert(tasks).values({
      id,
      projectId: goal.projectId,
      goalId: goal.id,
      title: values.title,
      description: values.description,
      priority: values.priority,
      scope: values.scope,
      estimateUsd:
        values.estimateUsd === null || values.estimateUsd === undefined
          ? null
          : values.estimateUsd.toFixed(4),
      status: "ready",
      createdBy: actorLabel(actor),
      createdAt: at,
      updatedAt: at,
    });
    if (actor.kind !== "agent") {
      await recordAudit(tx, actor, {
        projectId: goal.projectId,
        action: "task.create",
        targetType: "task",
        targetId: id,
        details: { title: values.title, goalId: goal.id },
      });
    }
  });

  return loadTaskView(db, id);
}

/** The board: a project's tasks, highest priority first. */
export async function listTasks(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<TaskView[]> {
  const values = parseInput(listTasksInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );
  const found = await selectTaskViews(
    db,
    and(
      eq(tasks.projectId, project.id),
      values.goalId ? eq(tasks.goalId, values.goalId) : undefined,
      values.status ? eq(tasks.status, values.status) : undefined,
    ),
  );

  return found.sort(
    (a, b) =>
      b.priority - a.priority || a.createdAt.getTime() - b.createdAt.getTime(),
  );
}

export async function getTask(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<TaskView> {
  const { taskId } = parseInput(taskIdInput, input);
  const task = await loadTaskView(db, taskId);
  await requireRoleIn(db, actor, task.projectId, "viewer", () =>
    notFound("Task", taskId),
  );

  return task;
}

/** An operator takes a task away from its holder ("release", back to
 * ready) or withdraws it ("cancel"). The holder's next call gets 409. */
async function interveneInTask(
  db: Database,
  actor: Actor,
  input: unknown,
  action: "release" | "cancel",
): Promise<TaskView> {
  const values = parseInput(operatorTaskInput, input);
  const before = await loadTaskView(db, values.taskId);
  await requireRoleIn(db, actor, before.projectId, "operator", () =>
    notFound("Task", values.taskId),
  );
  const finished = ["done", "failed", "cancelled"];
  if (finished.includes(before.status)) {
    throw conflict(
      `Task '${before.title}' is ${before.status}; it cannot be ${
        action === "release" ? "released" : "cancelled"
      }`,
      { status: before.status },
    );
  }
  if (action === "release" && before.status === "ready") {
    throw conflict(`Task '${before.title}' is not held by any agent`, {
      status: before.status,
    });
  }
  const at = now();
  await inTransaction(db, async (tx) => {
    // Only if nobody claimed or settled the task since it was read.
    const changed = await tx
      .update(tasks)
      .set({
        status: action === "release" ? "ready" : "cancelled",
        holderAgentId: null,
        leaseId: null,
        leaseExpiresAt: null,
        updatedAt: at,
        completedAt: action === "cancel" ? at : null,
      })
      .where(
        and(
          eq(tasks.id, before.id),
          eq(tasks.status, before.status),
          eq(tasks.leaseVersion, before.leaseVersion),
        ),
      )
      .returning({ id: tasks.id });
    if (changed.length === 0) {
      throw conflict(
        `Task '${before.title}' changed while you acted on it; look again`,
      );
    }
    await tx
      .update(taskLeases)
      .set({
        endedAt: at,
        endReason: action === "release" ? "revoked" : "cancelled",
      })
      .where(and(eq(taskLeases.taskId, before.id), isNull(taskLeases.endedAt)));
    await recordAudit(tx, actor, {
      projectId: before.projectId,
      action: `task.${action}`,
      targetType: "task",
      targetId: before.id,
      details: {
        title: before.title,
        previousStatus: before.status,
        previousHolder: before.holder?.name ?? null,
        reason: values.reason ?? null,
      },
    });
  });

  return loadTaskView(db, before.id);
}

export function releaseTaskAsOperator(
  db: Database,
  actor: Actor,
  input: unknown,
) {
  return interveneInTask(db, actor, input, "release");
}

export function cancelTask(db: Database, actor: Actor, input: unknown) {
  return interveneInTask(db, actor, input, "cancel");
}
