import { and, asc, eq, inArray, ne, sql } from "drizzle-orm";
import { type Database, queryRows } from "@/db/client";
import { taskDependencies, tasks } from "@/db/schema";
import { invalidInput, type FieldIssue } from "@/server/errors";
import type { TaskStatus } from "./schemas";
import { systemBy, transitionTask } from "./states";

// Dependencies between tasks of one goal. A task whose dependencies are not
// all done waits in `draft`; it becomes `ready` in the transaction that
// completes the last of them. A dependency that fails or is cancelled
// leaves its dependents waiting until an operator decides.

export interface DependencyRow {
  id: string;
  title: string;
  status: TaskStatus;
}

/** Checks that every id names a task of `goalId` and locks those tasks
 * against concurrent status changes until the transaction ends. */
export async function loadDependencies(
  tx: Database,
  goalId: string,
  dependsOn: string[],
): Promise<DependencyRow[]> {
  if (dependsOn.length === 0) return [];
  const rows = await tx
    .select({
      id: tasks.id,
      title: tasks.title,
      status: tasks.status,
      goalId: tasks.goalId,
    })
    .from(tasks)
    .where(inArray(tasks.id, dependsOn))
    .orderBy(asc(tasks.id))
    .for("share");
  const byId = new Map(rows.map((row) => [row.id, row]));
  const issues: FieldIssue[] = [];
  dependsOn.forEach((id, index) => {
    const row = byId.get(id);
    if (!row) {
      issues.push({ path: `dependsOn.${index}`, message: `No task ${id}` });
    } else if (row.goalId !== goalId) {
      issues.push({
        path: `dependsOn.${index}`,
        message: `Task '${row.title}' belongs to another goal`,
      });
    }
  });
  if (issues.length > 0) {
    throw invalidInput(
      `Invalid dependencies: ${issues[0].path}: ${issues[0].message}`,
      issues,
    );
  }

  return dependsOn.map((id) => {
    const row = byId.get(id);
    if (!row) throw new Error(`dependency ${id} vanished`);

    return { id: row.id, title: row.title, status: row.status as TaskStatus };
  });
}

/** Serialises dependency changes within a goal, so two concurrent edits
 * cannot together close a cycle neither saw. */
export async function lockGoalDependencies(tx: Database, goalId: string) {
  await queryRows(
    tx,
    sql`select pg_advisory_xact_lock(hashtext(${`flotilla:deps:${goalId}`}))`,
  );
}

/**
 * Refuses dependencies that would close a cycle, naming it by task titles
 * (e.g. "A → B → A"). `edges` are the goal's current dependencies with the
 * task's own replaced by `dependsOn`.
 */
export async function assertNoCycle(
  tx: Database,
  task: { id: string; title: string; goalId: string },
  dependsOn: string[],
): Promise<void> {
  const existing = await tx
    .select({ from: taskDependencies.taskId, to: taskDependencies.dependsOnId })
    .from(taskDependencies)
    .innerJoin(tasks, eq(tasks.id, taskDependencies.taskId))
    .where(and(eq(tasks.goalId, task.goalId), ne(tasks.id, task.id)));
  const graph = new Map<string, string[]>();
  for (const edge of existing) {
    graph.set(edge.from, [...(graph.get(edge.from) ?? []), edge.to]);
  }
  graph.set(task.id, dependsOn);
  const path = findPath(graph, dependsOn, task.id);
  if (!path) return;
  const ids = [task.id, ...path];
  const rows = await tx
    .select({ id: tasks.id, title: tasks.title })
    .from(tasks)
    .where(inArray(tasks.id, ids));
  const titles = new Map(rows.map((row) => [row.id, row.title]));
  titles.set(task.id, task.title);
  const cycle = ids.map((id) => titles.get(id) ?? id).join(" → ");
  const index = dependsOn.indexOf(path[0]);
  throw invalidInput(`Dependencies form a cycle: ${cycle}`, [
    { path: `dependsOn.${index}`, message: `Cycle: ${cycle}` },
  ]);
}

/** A path from one of `starts` to `target`, following dependencies. */
function findPath(
  graph: Map<string, string[]>,
  starts: string[],
  target: string,
): string[] | null {
  const seen = new Set<string>();
  const walk = (node: string): string[] | null => {
    if (node === target) return [node];
    if (seen.has(node)) return null;
    seen.add(node);
    for (const next of graph.get(node) ?? []) {
      const rest = walk(next);
      if (rest) return [node, ...rest];
    }

    return null;
  };
  for (const start of starts) {
    const found = walk(start);
    if (found) return found;
  }

  return null;
}

/** Titles of the dependencies of a task that are not done yet. */
export async function unfinishedDependencies(
  tx: Database,
  taskId: string,
): Promise<string[]> {
  const rows = await tx
    .select({ title: tasks.title })
    .from(taskDependencies)
    .innerJoin(tasks, eq(tasks.id, taskDependencies.dependsOnId))
    .where(and(eq(taskDependencies.taskId, taskId), ne(tasks.status, "done")))
    .orderBy(asc(tasks.title));

  return rows.map((row) => row.title);
}

/**
 * After `doneTaskId` became done (in `tx`): every waiting task that depends
 * on it and has nothing else unfinished becomes ready. Each dependent is
 * locked before its dependencies are read, so when two dependencies finish
 * at once the second transaction sees the first one's commit.
 */
export async function promoteDependents(
  tx: Database,
  doneTaskId: string,
  at: Date,
): Promise<void> {
  const dependents = await tx
    .select({ id: tasks.id })
    .from(taskDependencies)
    .innerJoin(tasks, eq(tasks.id, taskDependencies.taskId))
    .where(
      and(
        eq(taskDependencies.dependsOnId, doneTaskId),
        eq(tasks.status, "draft"),
      ),
    )
    .orderBy(asc(tasks.id));
  for (const { id } of dependents) {
    const [locked] = await tx
      .select({ id: tasks.id, title: tasks.title, status: tasks.status })
      .from(tasks)
      .where(eq(tasks.id, id))
      .for("update");
    if (!locked || locked.status !== "draft") continue;
    if ((await unfinishedDependencies(tx, id)).length > 0) continue;
    await transitionTask(tx, locked, {
      from: "draft",
      to: "ready",
      by: systemBy("system:dependencies"),
      reason: "dependencies done",
      at,
    });
  }
}
