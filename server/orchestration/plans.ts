import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import { type Database, inTransaction } from "@/db/client";
import { goals, plans, planTasks, tasks } from "@/db/schema";
import { conflict, forbidden, invalidInput, notFound } from "@/server/errors";
import {
  adminNeededMessage,
  openPlanApproval,
  planGate,
  settlePlanApproval,
} from "@/server/guardrails/plan-approvals";
import { actorId, actorLabel, type Actor } from "@/server/identity/actor";
import { recordAudit } from "@/server/identity/audit";
import { parseInput } from "@/server/input";
import { newId, now } from "@/server/runtime";
import { markPlanDecisionRead } from "./notices";
import { dependencyOrder, planIssues } from "./plan-graph";
import {
  goalIdInput,
  planIdInput,
  reviewPlanInput,
  submitPlanInput,
  type PlanDecision,
  type PlanStatus,
  type PlanTaskInput,
  type TaskStatus,
} from "./schemas";
import { insertTask } from "./tasks";
import { findGoalRow, money, requireRoleIn, type GoalRow } from "./views";

// Plans: an agent or an operator proposes the tasks of a goal; an operator
// approves, rejects or asks for changes. Only an approved plan becomes
// tasks, all of them in the approving transaction. A goal whose plans need
// no approval has each plan approved as it is submitted, unless the plan
// is above the project's cost threshold or touches a protected path: such
// a plan waits for an admin. A plan that waits is also an item of the
// approvals queue, settled by the same review.

export interface PlanTaskView {
  key: string;
  title: string;
  description: string;
  acceptanceCriteria: string;
  scope: string[];
  dependsOn: string[];
  priority: number;
  estimateUsd: number | null;
  capabilities: string[];
  /** The task made from this entry once the plan is approved. */
  taskId: string | null;
  taskStatus: TaskStatus | null;
}

export interface PlanSummary {
  id: string;
  projectId: string;
  goalId: string;
  version: number;
  status: PlanStatus;
  author: { type: Actor["kind"]; label: string };
  note: string;
  reviewer: string | null;
  reviewComment: string | null;
  reviewedAt: Date | null;
  createdAt: Date;
  taskCount: number;
  estimateTotalUsd: number;
}

export interface PlanChange {
  key: string;
  title: string;
  /** The fields that differ, e.g. ["scope", "dependsOn"]. */
  fields: string[];
}

export interface PlanDiff {
  previousVersion: number;
  previousPlanId: string;
  added: { key: string; title: string }[];
  removed: { key: string; title: string }[];
  changed: PlanChange[];
}

export interface PlanDetail extends PlanSummary {
  goalTitle: string;
  latestVersion: number;
  tasks: PlanTaskView[];
  /** Ids of the created tasks in plan order; empty until approved. */
  taskIds: string[];
  /** What changed since the previous version; null for version 1. */
  diff: PlanDiff | null;
}

type PlanRow = typeof plans.$inferSelect;
type PlanTaskRow = typeof planTasks.$inferSelect;

const AUTO_APPROVER = "system:auto-approve";

export async function submitPlan(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<PlanDetail> {
  const values = parseInput(submitPlanInput, input, "plan");
  const issues = planIssues(values.tasks);
  if (issues.length > 0) {
    throw invalidInput(
      `Invalid plan: ${issues[0].path}: ${issues[0].message}`,
      issues,
    );
  }
  const goal = await findGoalRow(db, values.goalId);
  await requireRoleIn(db, actor, goal.projectId, "operator", () =>
    notFound("Goal", values.goalId),
  );
  if (goal.status === "done") {
    throw invalidInput(`Goal '${goal.title}' is done; it takes no new plans`, [
      { path: "goalId", message: "This goal is done" },
    ]);
  }
  const gate = await planGate(db, goal.projectId, values.tasks);
  const planId = newId();
  await inTransaction(db, async (tx) => {
    // Locking the goal numbers concurrent submissions one after another
    // and reads its approval setting as of this moment.
    const [locked] = await tx
      .select()
      .from(goals)
      .where(eq(goals.id, goal.id))
      .for("update");
    if (!locked) throw notFound("Goal", goal.id);
    const [last] = await tx
      .select({ version: sql<number>`coalesce(max(${plans.version}), 0)` })
      .from(plans)
      .where(eq(plans.goalId, goal.id));
    const version = Number(last?.version ?? 0) + 1;
    const at = now();
    const autoApprove =
      !locked.requiresPlanApproval && gate.requiredRole === "operator";
    await tx.insert(plans).values({
      id: planId,
      projectId: goal.projectId,
      goalId: goal.id,
      version,
      status: autoApprove ? "approved" : "submitted",
      authorType: actor.kind,
      authorId: actorId(actor),
      authorLabel: actorLabel(actor),
      note: values.note,
      reviewerLabel: autoApprove ? AUTO_APPROVER : null,
      reviewComment: autoApprove
        ? `Goal '${locked.title}' does not require plan approval`
        : null,
      reviewedAt: autoApprove ? at : null,
      // The submitter reads an automatic approval in this very response.
      decisionDeliveredAt: autoApprove ? at : null,
      createdAt: at,
    });
    await tx
      .insert(planTasks)
      .values(
        values.tasks.map((task, position) =>
          planTaskRow(planId, position, task),
        ),
      );
    let taskIds: string[] = [];
    if (autoApprove) {
      taskIds = await createPlanTasks(tx, actor, locked, planId, version);
    } else {
      await openPlanApproval(
        tx,
        {
          id: planId,
          projectId: goal.projectId,
          goalId: goal.id,
          goalTitle: locked.title,
          version,
          note: values.note,
          authorType: actor.kind,
          authorId: actorId(actor),
        },
        gate,
      );
    }
    if (actor.kind !== "agent") {
      await recordAudit(tx, actor, {
        projectId: goal.projectId,
        action: "plan.submit",
        targetType: "plan",
        targetId: planId,
        details: {
          goalId: goal.id,
          version,
          tasks: values.tasks.length,
          autoApproved: autoApprove,
          taskIds,
        },
      });
    }
  });

  return loadPlanDetail(db, planId);
}

function planTaskRow(planId: string, position: number, task: PlanTaskInput) {
  return {
    planId,
    position,
    key: task.key,
    title: task.title,
    description: task.description,
    acceptanceCriteria: task.acceptanceCriteria,
    scope: task.scope,
    dependsOn: task.dependsOn,
    priority: task.priority,
    estimateUsd:
      task.estimateUsd === null || task.estimateUsd === undefined
        ? null
        : task.estimateUsd.toFixed(4),
    capabilities: task.capabilities,
  };
}

/**
 * Creates the tasks of an approved plan in `tx`, each after the tasks it
 * depends on, so a dependency maps to a real task id. New tasks are not
 * done, so a task with dependencies starts draft and one without is ready.
 */
async function createPlanTasks(
  tx: Database,
  actor: Actor,
  goal: GoalRow,
  planId: string,
  version: number,
): Promise<string[]> {
  const rows = await tx
    .select()
    .from(planTasks)
    .where(eq(planTasks.planId, planId))
    .orderBy(asc(planTasks.position));
  const created = new Map<string, { id: string; title: string }>();
  for (const index of dependencyOrder(rows)) {
    const row = rows[index];
    const dependencies = row.dependsOn.map((key) => {
      const dependency = created.get(key);
      if (!dependency) throw new Error(`plan task ${key} was not created`);

      return { ...dependency, status: "draft" as TaskStatus };
    });
    const taskId = await insertTask(
      tx,
      actor,
      goal,
      {
        title: row.title,
        description: row.description,
        acceptanceCriteria: row.acceptanceCriteria,
        capabilities: row.capabilities,
        priority: row.priority,
        scope: row.scope,
        estimateUsd: money(row.estimateUsd),
      },
      dependencies,
      { reason: `created from plan v${version}` },
    );
    created.set(row.key, { id: taskId, title: row.title });
    await tx
      .update(planTasks)
      .set({ createdTaskId: taskId })
      .where(
        and(eq(planTasks.planId, planId), eq(planTasks.position, row.position)),
      );
  }

  return rows.flatMap((row) => created.get(row.key)?.id ?? []);
}

const decidedStatus: Record<PlanDecision, PlanStatus> = {
  approve: "approved",
  reject: "rejected",
  request_changes: "changes_requested",
};

/** An operator decides on a submitted plan (an admin, when the plan is
 * above the cost threshold or touches a protected path); approving creates
 * its tasks in the same transaction. Only the latest version of a goal's
 * plan can be decided, and only once. */
export async function reviewPlan(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<PlanDetail> {
  const values = parseInput(reviewPlanInput, input);
  const plan = await findPlanRow(db, values.planId);
  const { role } = await requireRoleIn(
    db,
    actor,
    plan.projectId,
    "operator",
    () => notFound("Plan", values.planId),
  );
  if (actor.kind === "agent") {
    throw forbidden("Only an operator may approve, reject or return a plan");
  }
  const entries = await loadPlanTasks(db, [plan.id]);
  const gate = await planGate(
    db,
    plan.projectId,
    entries.map((entry) => ({
      key: entry.key,
      scope: entry.scope,
      estimateUsd: money(entry.estimateUsd),
    })),
  );
  if (gate.requiredRole === "admin" && role !== "admin") {
    throw forbidden(adminNeededMessage(gate), { needed: "admin", role });
  }
  if (values.decision !== "approve" && values.comment === "") {
    throw invalidInput("Say why in a comment", [
      { path: "comment", message: "A comment is required" },
    ]);
  }
  const status = decidedStatus[values.decision];
  await inTransaction(db, async (tx) => {
    const [goal] = await tx
      .select()
      .from(goals)
      .where(eq(goals.id, plan.goalId))
      .for("update");
    if (!goal) throw notFound("Goal", plan.goalId);
    const [current] = await tx
      .select()
      .from(plans)
      .where(eq(plans.id, plan.id))
      .for("update");
    if (!current) throw notFound("Plan", plan.id);
    if (current.status !== "submitted") {
      throw conflict(
        `Plan v${current.version} is already ${current.status.replace("_", " ")}`,
        { status: current.status },
      );
    }
    const [newer] = await tx
      .select({ version: plans.version })
      .from(plans)
      .where(
        and(
          eq(plans.goalId, current.goalId),
          sql`${plans.version} > ${current.version}`,
        ),
      )
      .orderBy(desc(plans.version))
      .limit(1);
    if (newer) {
      throw conflict(
        `Plan v${current.version} was superseded by v${newer.version}`,
        { latestVersion: newer.version },
      );
    }
    if (status === "approved" && goal.status === "done") {
      throw conflict(`Goal '${goal.title}' is done; it takes no new tasks`);
    }
    const at = now();
    await tx
      .update(plans)
      .set({
        status,
        reviewerLabel: actorLabel(actor),
        reviewComment: values.comment || null,
        reviewedAt: at,
      })
      .where(eq(plans.id, current.id));
    const taskIds =
      status === "approved"
        ? await createPlanTasks(tx, actor, goal, current.id, current.version)
        : [];
    await settlePlanApproval(
      tx,
      actor,
      current.id,
      status === "approved",
      values.comment || null,
    );
    await recordAudit(tx, actor, {
      projectId: current.projectId,
      action: `plan.${values.decision}`,
      targetType: "plan",
      targetId: current.id,
      details: {
        goalId: current.goalId,
        version: current.version,
        comment: values.comment || null,
        taskIds,
      },
    });
  });

  return loadPlanDetail(db, plan.id);
}

/** A goal's plans, newest version first. */
export async function listPlans(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<PlanSummary[]> {
  const { goalId } = parseInput(goalIdInput, input);
  const goal = await findGoalRow(db, goalId);
  await requireRoleIn(db, actor, goal.projectId, "viewer", () =>
    notFound("Goal", goalId),
  );
  const rows = await db
    .select()
    .from(plans)
    .where(eq(plans.goalId, goalId))
    .orderBy(desc(plans.version));
  const entries = await loadPlanTasks(
    db,
    rows.map((row) => row.id),
  );

  return rows.map((row) =>
    toSummary(
      row,
      entries.filter((entry) => entry.planId === row.id),
    ),
  );
}

export async function getPlan(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<PlanDetail> {
  const { planId } = parseInput(planIdInput, input);
  const plan = await findPlanRow(db, planId);
  await requireRoleIn(db, actor, plan.projectId, "viewer", () =>
    notFound("Plan", planId),
  );
  // An authoring agent that reads its plan has seen the decision.
  await markPlanDecisionRead(db, actor, planId);

  return loadPlanDetail(db, planId);
}

async function findPlanRow(db: Database, planId: string): Promise<PlanRow> {
  const [plan] = await db
    .select()
    .from(plans)
    .where(eq(plans.id, planId))
    .limit(1);
  if (!plan) throw notFound("Plan", planId);

  return plan;
}

async function loadPlanTasks(db: Database, planIds: string[]) {
  if (planIds.length === 0) return [];

  return db
    .select({ entry: planTasks, taskStatus: tasks.status })
    .from(planTasks)
    .leftJoin(tasks, eq(tasks.id, planTasks.createdTaskId))
    .where(inArray(planTasks.planId, planIds))
    .orderBy(asc(planTasks.position))
    .then((rows) =>
      rows.map((row) => ({
        ...row.entry,
        taskStatus: row.taskStatus as TaskStatus | null,
      })),
    );
}

function toTaskView(
  entry: PlanTaskRow & { taskStatus: TaskStatus | null },
): PlanTaskView {
  return {
    key: entry.key,
    title: entry.title,
    description: entry.description,
    acceptanceCriteria: entry.acceptanceCriteria,
    scope: entry.scope,
    dependsOn: entry.dependsOn,
    priority: entry.priority,
    estimateUsd: money(entry.estimateUsd),
    capabilities: entry.capabilities,
    taskId: entry.createdTaskId,
    taskStatus: entry.createdTaskId ? entry.taskStatus : null,
  };
}

function toSummary(row: PlanRow, entries: PlanTaskRow[]): PlanSummary {
  // Summed in ten-thousandths of a dollar, the stored precision, so the
  // total has no floating-point residue.
  const total = entries.reduce(
    (sum, entry) => sum + Math.round((money(entry.estimateUsd) ?? 0) * 10_000),
    0,
  );

  return {
    id: row.id,
    projectId: row.projectId,
    goalId: row.goalId,
    version: row.version,
    status: row.status as PlanStatus,
    author: { type: row.authorType as Actor["kind"], label: row.authorLabel },
    note: row.note,
    reviewer: row.reviewerLabel,
    reviewComment: row.reviewComment,
    reviewedAt: row.reviewedAt,
    createdAt: row.createdAt,
    taskCount: entries.length,
    estimateTotalUsd: total / 10_000,
  };
}

async function loadPlanDetail(
  db: Database,
  planId: string,
): Promise<PlanDetail> {
  const plan = await findPlanRow(db, planId);
  const goal = await findGoalRow(db, plan.goalId);
  const [previous] = await db
    .select()
    .from(plans)
    .where(
      and(eq(plans.goalId, plan.goalId), eq(plans.version, plan.version - 1)),
    )
    .limit(1);
  const [latest] = await db
    .select({ version: sql<number>`max(${plans.version})` })
    .from(plans)
    .where(eq(plans.goalId, plan.goalId));
  const entries = await loadPlanTasks(
    db,
    previous ? [plan.id, previous.id] : [plan.id],
  );
  const own = entries.filter((entry) => entry.planId === plan.id);
  const before = entries.filter((entry) => entry.planId === previous?.id);

  return {
    ...toSummary(plan, own),
    goalTitle: goal.title,
    latestVersion: Number(latest?.version ?? plan.version),
    tasks: own.map(toTaskView),
    taskIds: own.flatMap((entry) =>
      entry.createdTaskId ? [entry.createdTaskId] : [],
    ),
    diff: previous
      ? {
          previousVersion: previous.version,
          previousPlanId: previous.id,
          ...diffTasks(before.map(toTaskView), own.map(toTaskView)),
        }
      : null,
  };
}

const comparedFields = [
  "title",
  "description",
  "acceptanceCriteria",
  "scope",
  "dependsOn",
  "priority",
  "estimateUsd",
  "capabilities",
] as const;

/** Tasks added, removed and changed between two versions, matched by key. */
export function diffTasks(
  before: PlanTaskView[],
  after: PlanTaskView[],
): Omit<PlanDiff, "previousVersion" | "previousPlanId"> {
  const old = new Map(before.map((task) => [task.key, task]));
  const kept = new Set(after.map((task) => task.key));
  const changed: PlanChange[] = [];
  const added: { key: string; title: string }[] = [];
  for (const task of after) {
    const previous = old.get(task.key);
    if (!previous) {
      added.push({ key: task.key, title: task.title });
      continue;
    }
    const fields = comparedFields.filter(
      (field) =>
        JSON.stringify(previous[field]) !== JSON.stringify(task[field]),
    );
    if (fields.length > 0) {
      changed.push({ key: task.key, title: task.title, fields });
    }
  }
  const removed = before
    .filter((task) => !kept.has(task.key))
    .map((task) => ({ key: task.key, title: task.title }));

  return { added, removed, changed };
}
