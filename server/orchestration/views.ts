import { eq, type SQL } from "drizzle-orm";
import type { Database } from "@/db/client";
import { agents, goals, tasks } from "@/db/schema";
import { notFound } from "@/server/errors";
import { requireProjectRole } from "@/server/identity/access";
import type { Actor, Role } from "@/server/identity/actor";
import type { SuccessCriterion } from "@/db/schema";
import type { GoalForecast } from "./goal-forecast";
import type { GoalStatus, TaskStatus } from "./schemas";

// What the orchestration domain hands back to transports: plain values with
// money as numbers, and the holder named, never raw rows.

export interface TaskView {
  id: string;
  projectId: string;
  goalId: string;
  title: string;
  description: string;
  priority: number;
  scope: string[];
  acceptanceCriteria: string;
  capabilities: string[];
  estimateUsd: number | null;
  status: TaskStatus;
  holder: { id: string; name: string } | null;
  leaseExpiresAt: Date | null;
  leaseVersion: number;
  attempts: number;
  result: string | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

export interface GoalView {
  id: string;
  projectId: string;
  title: string;
  description: string;
  budgetUsd: number | null;
  budgetTokens: number | null;
  status: GoalStatus;
  requiresPlanApproval: boolean;
  successCriteria: SuccessCriterion[];
  owner: { id: string; name: string; email: string } | null;
  priority: number;
  dueAt: Date | null;
  maxActiveTasks: number | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
  spendUsd: number;
  spendTokens: number;
  overBudget: boolean;
  taskCounts: Record<TaskStatus, number>;
  taskTotal: number;
  /** Done tasks of all but the cancelled ones; percent is null with none. */
  progress: { done: number; total: number; percent: number | null };
  forecast: GoalForecast;
}

type TaskRow = typeof tasks.$inferSelect;
export type GoalRow = typeof goals.$inferSelect;

export function money(value: string | null): number | null {
  return value === null ? null : Number(value);
}

export function toTaskView(row: TaskRow, holderName: string | null): TaskView {
  return {
    id: row.id,
    projectId: row.projectId,
    goalId: row.goalId,
    title: row.title,
    description: row.description,
    priority: row.priority,
    scope: row.scope,
    acceptanceCriteria: row.acceptanceCriteria,
    capabilities: row.capabilities,
    estimateUsd: money(row.estimateUsd),
    status: row.status as TaskStatus,
    holder:
      row.holderAgentId && holderName
        ? { id: row.holderAgentId, name: holderName }
        : null,
    leaseExpiresAt: row.leaseExpiresAt,
    leaseVersion: row.leaseVersion,
    attempts: row.attempts,
    result: row.result,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    completedAt: row.completedAt,
  };
}

/** Tasks with their holder's name, filtered by `where`. */
export async function selectTaskViews(db: Database, where: SQL | undefined) {
  const rows = await db
    .select({ task: tasks, holderName: agents.name })
    .from(tasks)
    .leftJoin(agents, eq(agents.id, tasks.holderAgentId))
    .where(where);

  return rows.map((row) => toTaskView(row.task, row.holderName));
}

export async function loadTaskView(db: Database, taskId: string) {
  const [task] = await selectTaskViews(db, eq(tasks.id, taskId));
  if (!task) throw notFound("Task", taskId);

  return task;
}

/** Checks the actor may act in a project with at least `role`. An agent
 * outside its own project learns only that the thing does not exist. */
export async function requireRoleIn(
  db: Database,
  actor: Actor,
  projectId: string,
  role: Role,
  missing: () => Error,
) {
  if (actor.kind === "agent" && actor.projectId !== projectId) throw missing();

  return requireProjectRole(db, actor, projectId, role);
}

export async function findGoalRow(db: Database, goalId: string) {
  const [goal] = await db
    .select()
    .from(goals)
    .where(eq(goals.id, goalId))
    .limit(1);
  if (!goal) throw notFound("Goal", goalId);

  return goal;
}
