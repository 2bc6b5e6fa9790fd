import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { type Database, inTransaction } from "@/db/client";
import { goals, tasks, user } from "@/db/schema";
import { goalSpends, isOverBudget } from "@/server/guardrails/budget";
import { conflict, forbidden, invalidInput, notFound } from "@/server/errors";
import {
  findProject,
  projectRole,
  requireProjectRole,
} from "@/server/identity/access";
import { actorLabel, type Actor } from "@/server/identity/actor";
import { recordAudit } from "@/server/identity/audit";
import { parseInput } from "@/server/input";
import { newId, now } from "@/server/runtime";
import {
  createGoalInput,
  goalIdInput,
  listGoalsInput,
  setGoalCriterionInput,
  taskStatuses,
  updateGoalInput,
  type GoalStatus,
  type TaskStatus,
} from "./schemas";
import { forecastGoal, goalBurn } from "./goal-forecast";
import {
  findGoalRow,
  money,
  requireRoleIn,
  type GoalRow,
  type GoalView,
} from "./views";

// Goals: what a project's agents work towards. Each has a checklist of
// success criteria, an owner, a priority and a due date, optional budgets
// in USD and tokens that are hard limits on the spend of its tasks, and a
// forecast of where its spend is heading.

function emptyCounts(): Record<TaskStatus, number> {
  return Object.fromEntries(taskStatuses.map((s) => [s, 0])) as Record<
    TaskStatus,
    number
  >;
}

/** Adds task counts, progress, spend and the forecast to goal rows, in a
 * few queries for all of them. */
async function toGoalViews(db: Database, rows: GoalRow[]): Promise<GoalView[]> {
  const ids = rows.map((goal) => goal.id);
  const at = now();
  const ownerIds = [
    ...new Set(
      rows.flatMap((goal) => (goal.ownerUserId ? [goal.ownerUserId] : [])),
    ),
  ];
  const [spends, burns, counts, owners] = await Promise.all([
    goalSpends(db, ids),
    goalBurn(db, ids, at),
    ids.length === 0
      ? []
      : db
          .select({
            goalId: tasks.goalId,
            status: tasks.status,
            count: sql<number>`count(*)::int`,
          })
          .from(tasks)
          .where(inArray(tasks.goalId, ids))
          .groupBy(tasks.goalId, tasks.status),
    ownerIds.length === 0
      ? []
      : db
          .select({ id: user.id, name: user.name, email: user.email })
          .from(user)
          .where(inArray(user.id, ownerIds)),
  ]);
  const ownerById = new Map(owners.map((owner) => [owner.id, owner]));

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
    const burn = burns.get(goal.id) ?? {
      tokens: 0,
      windowUsd: 0,
      windowTokens: 0,
    };
    // Cancelled tasks are work nobody will do; they do not count.
    const total = taskTotal - taskCounts.cancelled;
    const done = taskCounts.done;

    return {
      id: goal.id,
      projectId: goal.projectId,
      title: goal.title,
      description: goal.description,
      budgetUsd,
      budgetTokens: goal.budgetTokens,
      status: goal.status as GoalStatus,
      requiresPlanApproval: goal.requiresPlanApproval,
      successCriteria: goal.successCriteria,
      owner: goal.ownerUserId
        ? (ownerById.get(goal.ownerUserId) ?? null)
        : null,
      priority: goal.priority,
      dueAt: goal.dueAt,
      maxActiveTasks: goal.maxActiveTasks,
      createdBy: goal.createdBy,
      createdAt: goal.createdAt,
      updatedAt: goal.updatedAt,
      spendUsd,
      spendTokens: burn.tokens,
      overBudget: isOverBudget(budgetUsd, spendUsd),
      taskCounts,
      taskTotal,
      progress: {
        done,
        total,
        percent: total === 0 ? null : Math.round((done / total) * 100),
      },
      forecast: forecastGoal({
        at,
        createdAt: goal.createdAt,
        status: goal.status,
        dueAt: goal.dueAt,
        budgetUsd,
        budgetTokens: goal.budgetTokens,
        spendUsd,
        spendTokens: burn.tokens,
        windowUsd: burn.windowUsd,
        windowTokens: burn.windowTokens,
      }),
    };
  });
}

/** The user an owner field names (email or id), who must have a role in
 * the project; a 400 on the owner field otherwise. */
async function resolveOwner(
  db: Database,
  projectId: string,
  owner: string,
): Promise<string> {
  const match = owner.includes("@")
    ? sql`lower(${user.email}) = lower(${owner})`
    : eq(user.id, owner);
  const [person] = await db
    .select({
      id: user.id,
      email: user.email,
      role: user.role,
    })
    .from(user)
    .where(match)
    .limit(1);
  const refuse = (message: string) =>
    invalidInput(`Invalid input: owner: ${message}`, [
      { path: "owner", message },
    ]);
  if (!person) throw refuse(`No user ${owner}`);
  const project = await findProject(db, projectId);
  const role = await projectRole(
    db,
    {
      kind: "user",
      userId: person.id,
      email: person.email,
      instanceRole: person.role as "admin" | "operator" | "viewer",
      via: "session",
    },
    project,
  );
  if (!role) throw refuse(`${owner} is not a member of the project`);

  return person.id;
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
  const ownerUserId = values.owner
    ? await resolveOwner(db, project.id, values.owner)
    : null;
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
        budgetTokens: values.budgetTokens ?? null,
        status: values.draft ? "draft" : "active",
        requiresPlanApproval: values.requiresPlanApproval,
        successCriteria: values.successCriteria,
        ownerUserId: ownerUserId ?? null,
        priority: values.priority,
        dueAt: values.dueAt ?? null,
        maxActiveTasks: values.maxActiveTasks ?? null,
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
        details: {
          title: goal.title,
          status: goal.status,
          budgetUsd: values.budgetUsd ?? null,
          budgetTokens: goal.budgetTokens,
          ownerUserId: goal.ownerUserId,
          priority: goal.priority,
          dueAt: goal.dueAt?.toISOString() ?? null,
          criteria: goal.successCriteria.length,
        },
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
    // Work in hand first, then drafts, paused and done; by priority within.
    .orderBy(
      sql`case ${goals.status} when 'active' then 0 when 'draft' then 1
        when 'paused' then 2 else 3 end`,
      desc(goals.priority),
      desc(goals.createdAt),
    );

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
  if (values.budgetTokens !== undefined) {
    changes.budgetTokens = values.budgetTokens;
  }
  if (values.status !== undefined) changes.status = values.status;
  if (values.requiresPlanApproval !== undefined) {
    changes.requiresPlanApproval = values.requiresPlanApproval;
  }
  if (values.successCriteria !== undefined) {
    changes.successCriteria = values.successCriteria;
  }
  if (values.owner !== undefined) {
    changes.ownerUserId =
      values.owner === null
        ? null
        : await resolveOwner(db, before.projectId, values.owner);
  }
  if (values.priority !== undefined) changes.priority = values.priority;
  if (values.dueAt !== undefined) changes.dueAt = values.dueAt;
  if (values.maxActiveTasks !== undefined) {
    changes.maxActiveTasks = values.maxActiveTasks;
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

/** Ticks one line of the checklist, or clears it: an operator's call,
 * audited. Refused with 409 when the line's text no longer matches. */
export async function setGoalCriterion(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<GoalView> {
  const values = parseInput(setGoalCriterionInput, input);
  const before = await findGoalRow(db, values.goalId);
  if (actor.kind === "agent") {
    throw forbidden("Only a person ticks off a goal's success criteria");
  }
  await requireRoleIn(db, actor, before.projectId, "operator", () =>
    notFound("Goal", values.goalId),
  );
  const row = await inTransaction(db, async (tx) => {
    // Read again under a row lock so two ticks at once both land.
    const [current] = await tx
      .select()
      .from(goals)
      .where(eq(goals.id, before.id))
      .for("update");
    const criteria = current.successCriteria;
    const line = criteria[values.index];
    if (!line || (values.text !== undefined && line.text !== values.text)) {
      throw conflict(
        "The checklist changed since you loaded it; reload and try again",
        { index: values.index },
      );
    }
    const next = criteria.map((item, i) =>
      i === values.index ? { ...item, done: values.done } : item,
    );
    const [goal] = await tx
      .update(goals)
      .set({ successCriteria: next, updatedAt: now() })
      .where(eq(goals.id, before.id))
      .returning();
    if (line.done !== values.done) {
      await recordAudit(tx, actor, {
        projectId: goal.projectId,
        action: values.done ? "goal.criterion.done" : "goal.criterion.undone",
        targetType: "goal",
        targetId: goal.id,
        details: { title: goal.title, index: values.index, text: line.text },
      });
    }

    return goal;
  });

  return goalView(db, row);
}
