import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import { type Database, inTransaction } from "@/db/client";
import { goals, tasks } from "@/db/schema";
import { goalSpends, isOverBudget } from "@/server/guardrails/budget";
import { notFound } from "@/server/errors";
import { requireProjectRole } from "@/server/identity/access";
import { actorLabel, type Actor } from "@/server/identity/actor";
import { recordAudit } from "@/server/identity/audit";
import { parseInput } from "@/server/input";
import { newId, now } from "@/server/runtime";
import {
  createGoalInput,
  goalIdInput,
  listGoalsInput,
  taskStatuses,
  updateGoalInput,
  type GoalStatus,
  type TaskStatus,
} from "./schemas";
import {
  findGoalRow,
  money,
  requireRoleIn,
  type GoalRow,
  type GoalView,
} from "./views";

// Goals: what a project's agents work towards, each with an optional budget
// in USD that is a hard limit on the spend of its tasks.

function emptyCounts(): Record<TaskStatus, number> {
  return Object.fromEntries(taskStatuses.map((s) => [s, 0])) as Record<
    TaskStatus,
    number
  >;
}

/** Adds task counts and spend to goal rows, in two queries for all. */
async function toGoalViews(db: Database, rows: GoalRow[]): Promise<GoalView[]> {
  const ids = rows.map((goal) => goal.id);
  const spends = await goalSpends(db, ids);
  const counts =
    ids.length === 0
      ? []
      : await db
          .select({
            goalId: tasks.goalId,
            status: tasks.status,
            count: sql<number>`count(*)::int`,
          })
          .from(tasks)
          .where(inArray(tasks.goalId, ids))
          .groupBy(tasks.goalId, tasks.status);

  return rows.map((goal) => {
    const taskCounts = emptyCounts();
    let taskTotal = 0;
    for (const row of counts) {
      if (row.goalId !== goal.id) continue;
      const count = Number(row.count);
      taskCounts[row.status as TaskStatus] = count;
      taskTotal += count;
    }
    const budgetUsd = money(goal.budgetUsd);
    const spendUsd = spends.get(goal.id) ?? 0;

    return {
      id: goal.id,
      projectId: goal.projectId,
      title: goal.title,
      description: goal.description,
      budgetUsd,
      status: goal.status as GoalStatus,
      requiresPlanApproval: goal.requiresPlanApproval,
      createdBy: goal.createdBy,
      createdAt: goal.createdAt,
      updatedAt: goal.updatedAt,
      spendUsd,
      overBudget: isOverBudget(budgetUsd, spendUsd),
      taskCounts,
      taskTotal,
    };
  });
}

async function goalView(db: Database, row: GoalRow): Promise<GoalView> {
  const [view] = await toGoalViews(db, [row]);

  return view;
}

function budgetText(value: number | null | undefined): string | null {
  return value === null || value === undefined ? null : value.toFixed(4);
}

export async function createGoal(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<GoalView> {
  const values = parseInput(createGoalInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "operator",
  );
  const at = now();
  const row = await inTransaction(db, async (tx) => {
    const [goal] = await tx
      .insert(goals)
      .values({
        id: newId(),
        projectId: project.id,
        title: values.title,
        description: values.description,
        budgetUsd: budgetText(values.budgetUsd),
        status: "active",
        requiresPlanApproval: values.requiresPlanApproval,
        createdBy: actorLabel(actor),
        createdAt: at,
        updatedAt: at,
      })
      .returning();
    if (actor.kind !== "agent") {
      await recordAudit(tx, actor, {
        projectId: project.id,
        action: "goal.create",
        targetType: "goal",
        targetId: goal.id,
        details: { title: goal.title, budgetUsd: values.budgetUsd ?? null },
      });
    }

    return goal;
  });

  return goalView(db, row);
}

export async function listGoals(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<GoalView[]> {
  const values = parseInput(listGoalsInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );
  const rows = await db
    .select()
    .from(goals)
    .where(
      and(
        eq(goals.projectId, project.id),
        values.status ? eq(goals.status, values.status) : undefined,
      ),
    )
    .orderBy(asc(goals.status), desc(goals.createdAt));

  return toGoalViews(db, rows);
}

export async function getGoal(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<GoalView> {
  const { goalId } = parseInput(goalIdInput, input);
  const row = await findGoalRow(db, goalId);
  await requireRoleIn(db, actor, row.projectId, "viewer", () =>
    notFound("Goal", goalId),
  );

  return goalView(db, row);
}

export async function updateGoal(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<GoalView> {
  const values = parseInput(updateGoalInput, input);
  const before = await findGoalRow(db, values.goalId);
  await requireRoleIn(db, actor, before.projectId, "operator", () =>
    notFound("Goal", values.goalId),
  );
  const changes: Partial<typeof goals.$inferInsert> = {};
  if (values.title !== undefined) changes.title = values.title;
  if (values.description !== undefined) {
    changes.description = values.description;
  }
  if (values.budgetUsd !== undefined) {
    changes.budgetUsd = budgetText(values.budgetUsd);
  }
  if (values.status !== undefined) changes.status = values.status;
  if (values.requiresPlanApproval !== undefined) {
    changes.requiresPlanApproval = values.requiresPlanApproval;
  }
  const row = await inTransaction(db, async (tx) => {
    const [goal] = await tx
      .update(goals)
      .set({ ...changes, updatedAt: now() })
      .where(eq(goals.id, before.id))
      .returning();
    if (actor.kind !== "agent") {
      await recordAudit(tx, actor, {
        projectId: goal.projectId,
        action: "goal.update",
        targetType: "goal",
        targetId: goal.id,
        details: {
          title: goal.title,
          before: pick(before, changes),
          after: pick(goal, changes),
        },
      });
    }

    return goal;
  });

  return goalView(db, row);
}

/** The fields of `row` that `changes` touched, for the audit log. */
function pick(row: GoalRow, changes: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(changes)) {
    out[key] = row[key as keyof GoalRow];
  }

  return out;
}
