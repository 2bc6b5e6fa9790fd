import { and, arrayContains, asc, eq, isNull } from "drizzle-orm";
import { type Database, inTransaction } from "@/db/client";
import {
  taskDependencies,
  taskLeases,
  tasks,
  taskTransitions,
} from "@/db/schema";
import { conflict, invalidInput, notFound } from "@/server/errors";
import { requireProjectRole } from "@/server/identity/access";
import { actorLabel, type Actor } from "@/server/identity/actor";
import { recordAudit } from "@/server/identity/audit";
import { parseInput } from "@/server/input";
import { newId, now } from "@/server/runtime";
import { scopeRoots } from "./scopes";
import {
  assertNoCycle,
  loadDependencies,
  lockGoalDependencies,
  unfinishedDependencies,
} from "./dependencies";
import {
  createTaskInput,
  listTasksInput,
  operatorTaskInput,
  setDependenciesInput,
  taskIdInput,
  type TaskStatus,
} from "./schemas";
import {
  recordTransition,
  systemBy,
  transitionBy,
  transitionTask,
  type TransitionActorType,
} from "./states";
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
  const id = await inTransaction(db, async (tx) => {
    const dependencies = await loadDependencies(tx, goal.id, values.dependsOn);
    const taskId = await insertTask(tx, actor, goal, values, dependencies);
    if (actor.kind !== "agent") {
      await recordAudit(tx, actor, {
        projectId: goal.projectId,
        action: "task.create",
        targetType: "task",
        targetId: taskId,
        details: {
          title: values.title,
          goalId: goal.id,
          dependsOn: values.dependsOn,
        },
      });
    }

    return taskId;
  });

  return loadTaskView(db, id);
}

export interface NewTask {
  title: string;
  description: string;
  acceptanceCriteria?: string;
  capabilities?: string[];
  priority: number;
  scope: string[];
  estimateUsd?: number | null;
}

/**
 * Inserts a task of `goal` in `tx`, draft while any of `dependencies` is not
 * done and ready otherwise, with its dependencies and its first history
 * row. Every way a task comes to exist (direct creation, an approved plan)
 * goes through here.
 */
export async function insertTask(
  tx: Database,
  actor: Actor,
  goal: { id: string; projectId: string },
  values: NewTask,
  dependencies: { id: string; title: string; status: TaskStatus }[],
  options: { reason?: string } = {},
): Promise<string> {
  const at = now();
  const id = newId();
  const waiting = dependencies.filter((d) => d.status !== "done");
  const status: TaskStatus = waiting.length > 0 ? "draft" : "ready";
  await tx.insert(tasks).values({
    id,
    projectId: goal.projectId,
    goalId: goal.id,
    title: values.title,
    description: values.description,
    acceptanceCriteria: values.acceptanceCriteria ?? "",
    capabilities: values.capabilities ?? [],
    priority: values.priority,
    scope: values.scope,
    scopeRoots: scopeRoots(values.scope),
    estimateUsd:
      values.estimateUsd === null || values.estimateUsd === undefined
        ? null
        : values.estimateUsd.toFixed(4),
    status,
    createdBy: actorLabel(actor),
    createdAt: at,
    updatedAt: at,
  });
  if (dependencies.length > 0) {
    await tx
      .insert(taskDependencies)
      .values(dependencies.map((d) => ({ taskId: id, dependsOnId: d.id })));
  }
  await recordTransition(tx, {
    taskId: id,
    from: null,
    to: status,
    by: transitionBy(actor),
    reason:
      waiting.length > 0
        ? waitingReason(waiting)
        : (options.reason ?? "created"),
    at,
  });

  return id;
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
      values.holderAgentId
        ? eq(tasks.holderAgentId, values.holderAgentId)
        : undefined,
      values.capability
        ? arrayContains(tasks.capabilities, [values.capability])
        : undefined,
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
  const held = before.status === "claimed" || before.status === "in_progress";
  if (action === "release" && !held) {
    throw conflict(
      `Task '${before.title}' is not held by any agent (it is ${before.status})`,
      { status: before.status },
    );
  }
  const at = now();
  const to = action === "release" ? "ready" : "cancelled";
  await inTransaction(db, async (tx) => {
    // Only if nobody claimed or settled the task since it was read.
    await transitionTask(tx, before, {
      from: before.status,
      to,
      by: transitionBy(actor),
      reason:
        values.reason ??
        (action === "release" ? "released by an operator" : "cancelled"),
      at,
      leaseVersion: before.leaseVersion,
      set: {
        holderAgentId: null,
        leaseId: null,
        leaseExpiresAt: null,
        completedAt: action === "cancel" ? at : null,
      },
    });
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

function waitingReason(waiting: { title: string }[]): string {
  return `waiting on ${waiting.map((d) => `'${d.title}'`).join(", ")}`;
}

/**
 * Replaces what a task depends on, before it is claimed. Unknown tasks,
 * tasks of other goals and cycles are refused with the field path. The
 * task moves between draft and ready to match (by the system).
 */
export async function setTaskDependencies(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<TaskView> {
  const values = parseInput(setDependenciesInput, input);
  const before = await loadTaskView(db, values.taskId);
  await requireRoleIn(db, actor, before.projectId, "operator", () =>
    notFound("Task", values.taskId),
  );
  const at = now();
  await inTransaction(db, async (tx) => {
    await lockGoalDependencies(tx, before.goalId);
    const [task] = await tx
      .select()
      .from(tasks)
      .where(eq(tasks.id, before.id))
      .for("update");
    if (!task) throw notFound("Task", before.id);
    const status = task.status as TaskStatus;
    if (status !== "draft" && status !== "ready") {
      throw conflict(
        `Task '${task.title}' is ${status}: its dependencies can change ` +
          "only while it is draft or ready",
        { status },
      );
    }
    await loadDependencies(tx, task.goalId, values.dependsOn);
    await assertNoCycle(tx, task, values.dependsOn);
    await tx
      .delete(taskDependencies)
      .where(eq(taskDependencies.taskId, task.id));
    if (values.dependsOn.length > 0) {
      await tx.insert(taskDependencies).values(
        values.dependsOn.map((dependsOnId) => ({
          taskId: task.id,
          dependsOnId,
        })),
      );
    }
    const waiting = await unfinishedDependencies(tx, task.id);
    const by = systemBy("system:dependencies");
    if (waiting.length > 0 && status === "ready") {
      await transitionTask(tx, task, {
        from: "ready",
        to: "draft",
        by,
        reason: waitingReason(waiting.map((title) => ({ title }))),
        at,
      });
    } else if (waiting.length === 0 && status === "draft") {
      await transitionTask(tx, task, {
        from: "draft",
        to: "ready",
        by,
        reason: "dependencies done",
        at,
      });
    }
    if (actor.kind !== "agent") {
      await recordAudit(tx, actor, {
        projectId: task.projectId,
        action: "task.dependencies",
        targetType: "task",
        targetId: task.id,
        details: { title: task.title, dependsOn: values.dependsOn },
      });
    }
  });

  return loadTaskView(db, before.id);
}

export interface TaskTransitionView {
  id: number;
  from: TaskStatus | null;
  to: TaskStatus;
  actorType: TransitionActorType;
  actorLabel: string;
  reason: string | null;
  at: Date;
}

export interface TaskDetail {
  task: TaskView;
  dependsOn: { id: string; title: string; status: TaskStatus }[];
  transitions: TaskTransitionView[];
}

/** A task with what it depends on and its whole status history, oldest
 * first, for the task page. */
export async function getTaskDetail(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<TaskDetail> {
  const task = await getTask(db, actor, input);
  const dependsOn = await db
    .select({ id: tasks.id, title: tasks.title, status: tasks.status })
    .from(taskDependencies)
    .innerJoin(tasks, eq(tasks.id, taskDependencies.dependsOnId))
    .where(eq(taskDependencies.taskId, task.id))
    .orderBy(asc(tasks.title));
  const history = await db
    .select()
    .from(taskTransitions)
    .where(eq(taskTransitions.taskId, task.id))
    .orderBy(asc(taskTransitions.id));

  return {
    task,
    dependsOn: dependsOn.map((d) => ({ ...d, status: d.status as TaskStatus })),
    transitions: history.map((row) => ({
      id: row.id,
      from: row.fromStatus as TaskStatus | null,
      to: row.toStatus as TaskStatus,
      actorType: row.actorType as TransitionActorType,
      actorLabel: row.actorLabel,
      reason: row.reason,
      at: row.at,
    })),
  };
}
