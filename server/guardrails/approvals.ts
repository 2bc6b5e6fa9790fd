import { and, asc, desc, eq, inArray, ne, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { type Database, inTransaction } from "@/db/client";
import {
  agents,
  agentSessions,
  approvals,
  goals,
  plans,
  planTasks,
  tasks,
} from "@/db/schema";
import { conflict, forbidden, invalidInput, notFound } from "@/server/errors";
import { requireProjectRole } from "@/server/identity/access";
import {
  actorId,
  actorLabel,
  roleAtLeast,
  type Actor,
  type Role,
} from "@/server/identity/actor";
import { recordAudit } from "@/server/identity/audit";
import { parseInput } from "@/server/input";
import { maskValue } from "@/server/observability/flags";
import { reviewPlan } from "@/server/orchestration/plans";
import {
  findGoalRow,
  money,
  requireRoleIn,
} from "@/server/orchestration/views";
import { now } from "@/server/runtime";
import { settleApprovalNotifications } from "./notify";
import {
  approvalKinds,
  approvalStatuses,
  currentApproval,
  expireApprovals,
  markApprovalDelivered,
  openApproval,
  waitForDecision,
  type ApprovalKind,
  type ApprovalRow,
  type ApprovalStatus,
} from "./approval-store";

// The approvals queue: everything that waits on a person (a plan, a tool
// call an "ask" rule holds, a budget increase an agent asked for). Anyone
// in the project reads it; operators decide, or admins where the item
// needs one. Each decision is one click, audited, and reaches the agent:
// at once when it is waiting, else in its next claim or heartbeat.

export interface ApprovalView {
  id: string;
  kind: ApprovalKind;
  status: ApprovalStatus;
  requiredRole: "operator" | "admin";
  title: string;
  reason: string;
  /** What is asked; secrets in a tool call's input are masked. */
  payload: Record<string, unknown>;
  agent: { id: string; name: string } | null;
  /** The agent's session (the id its client uses) and its cost so far. */
  session: { id: string; costUsd: number | null } | null;
  goal: { id: string; title: string; budgetUsd: number | null } | null;
  task: { id: string; title: string } | null;
  plan: {
    id: string;
    version: number;
    status: string;
    estimateTotalUsd: number;
    tasks: {
      key: string;
      title: string;
      scope: string[];
      estimateUsd: number | null;
    }[];
  } | null;
  requestedAt: Date;
  expiresAt: Date | null;
  decidedAt: Date | null;
  decidedBy: string | null;
  comment: string | null;
  deliveredAt: Date | null;
  /** Whether the caller may approve or deny it now. */
  canDecide: boolean;
}

const id = z.uuid("Must be a UUID");

export const listApprovalsInput = z
  .object({
    project: z.string().min(1),
    /** A status, or "decided" for every status but pending. */
    status: z.enum([...approvalStatuses, "decided"]).optional(),
    kind: z.enum(approvalKinds).optional(),
    limit: z.number().int().min(1).max(200).default(50),
  })
  .strict();

export const approvalIdInput = z.object({ approvalId: id }).strict();

export const decideApprovalInput = z
  .object({
    approvalId: id,
    decision: z.enum(["approve", "deny"]),
    comment: z
      .string()
      .trim()
      .max(2000, "A comment must be at most 2000 characters")
      .default(""),
  })
  .strict();

export const budgetRequestInput = z
  .object({
    goalId: id,
    amountUsd: z
      .number({ error: "Must be a number of dollars" })
      .positive("Must be more than 0")
      .max(1_000_000, "Must be at most 1000000")
      .multipleOf(0.01, "Must have at most 2 decimals"),
    reason: z
      .string()
      .trim()
      .min(1, "Say why the goal needs more budget")
      .max(2000, "Reason must be at most 2000 characters"),
  })
  .strict();

export const agentApprovalInput = z
  .object({
    approvalId: id,
    /** Seconds to wait for a decision while it is pending (0 to 50). */
    wait: z
      .union([
        z.number(),
        // Query strings: plain decimal seconds only ("0x10" is refused).
        z
          .string()
          .regex(/^\d+(\.\d+)?$/, "Must be a number of seconds")
          .transform(Number),
      ])
      .pipe(
        z
          .number({ error: "Must be a number of seconds" })
          .min(0, "Must be at least 0")
          .max(50, "Must be at most 50 seconds"),
      )
      .default(0),
  })
  .strict();

/** Who may decide this item, given the caller's role in the project. */
function mayDecide(actor: Actor, role: Role, row: ApprovalRow): boolean {
  return (
    actor.kind !== "agent" &&
    row.status === "pending" &&
    roleAtLeast(role, row.requiredRole as Role)
  );
}

/** Rows with their agent, session cost, goal, task and plan tasks. */
async function toViews(
  db: Database,
  actor: Actor,
  role: Role,
  rows: ApprovalRow[],
): Promise<ApprovalView[]> {
  if (rows.length === 0) return [];
  const unique = <T>(values: (T | null)[]) =>
    [...new Set(values)].filter((value): value is T => value !== null);
  const agentIds = unique(rows.map((row) => row.agentId));
  const goalIds = unique(rows.map((row) => row.goalId));
  const taskIds = unique(rows.map((row) => row.taskId));
  const planIds = unique(rows.map((row) => row.planId));
  const sessionIds = unique(rows.map((row) => row.sessionId));
  const projectId = rows[0].projectId;
  const [agentRows, goalRows, taskRows, planRows, entries, sessions] =
    await Promise.all([
      agentIds.length === 0
        ? []
        : db
            .select({ id: agents.id, name: agents.name })
            .from(agents)
            .where(inArray(agents.id, agentIds)),
      goalIds.length === 0
        ? []
        : db
            .select({
              id: goals.id,
              title: goals.title,
              budgetUsd: goals.budgetUsd,
            })
            .from(goals)
            .where(inArray(goals.id, goalIds)),
      taskIds.length === 0
        ? []
        : db
            .select({ id: tasks.id, title: tasks.title })
            .from(tasks)
            .where(inArray(tasks.id, taskIds)),
      planIds.length === 0
        ? []
        : db
            .select({
              id: plans.id,
              version: plans.version,
              status: plans.status,
            })
            .from(plans)
            .where(inArray(plans.id, planIds)),
      planIds.length === 0
        ? []
        : db
            .select()
            .from(planTasks)
            .where(inArray(planTasks.planId, planIds))
            .orderBy(asc(planTasks.position)),
      sessionIds.length === 0
        ? []
        : db
            .select({
              externalId: agentSessions.externalId,
              costUsd: agentSessions.costUsd,
            })
            .from(agentSessions)
            .where(
              and(
                eq(agentSessions.projectId, projectId),
                inArray(agentSessions.externalId, sessionIds),
              ),
            ),
    ]);
  const byId = <T extends { id: string }>(list: T[]) =>
    new Map(list.map((item) => [item.id, item]));
  const agentById = byId(agentRows);
  const goalById = byId(goalRows);
  const taskById = byId(taskRows);
  const planById = byId(planRows);
  const costBySession = new Map(
    sessions.map((s) => [s.externalId, Number(s.costUsd)]),
  );

  return rows.map((row) => {
    const goal = row.goalId ? goalById.get(row.goalId) : undefined;
    const plan = row.planId ? planById.get(row.planId) : undefined;
    const planEntries = entries.filter((entry) => entry.planId === row.planId);

    return {
      id: row.id,
      kind: row.kind as ApprovalKind,
      status: row.status as ApprovalStatus,
      requiredRole: row.requiredRole as "operator" | "admin",
      title: row.title,
      reason: row.reason,
      payload: maskValue(row.payload) as Record<string, unknown>,
      agent: row.agentId ? (agentById.get(row.agentId) ?? null) : null,
      session: row.sessionId
        ? {
            id: row.sessionId,
            costUsd: costBySession.get(row.sessionId) ?? null,
          }
        : null,
      goal: goal
        ? { id: goal.id, title: goal.title, budgetUsd: money(goal.budgetUsd) }
        : null,
      task: row.taskId ? (taskById.get(row.taskId) ?? null) : null,
      plan: plan
        ? {
            ...plan,
            estimateTotalUsd:
              planEntries.reduce(
                (sum, entry) =>
                  sum + Math.round((money(entry.estimateUsd) ?? 0) * 10_000),
                0,
              ) / 10_000,
            tasks: planEntries.map((entry) => ({
              key: entry.key,
              title: entry.title,
              scope: entry.scope,
              estimateUsd: money(entry.estimateUsd),
            })),
          }
        : null,
      requestedAt: row.requestedAt,
      expiresAt: row.expiresAt,
      decidedAt: row.decidedAt,
      decidedBy: row.decidedByLabel,
      comment: row.comment,
      deliveredAt: row.deliveredAt,
      canDecide: mayDecide(actor, role, row),
    };
  });
}

/** The queue of a project: without a status, every pending item (oldest
 * first) and then the most recently decided ones. */
export async function listApprovals(
  db: Database,
  actor: Actor,
  input: z.input<typeof listApprovalsInput>,
): Promise<ApprovalView[]> {
  const values = parseInput(listApprovalsInput, input);
  const { project, role } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );
  await expireApprovals(db, { projectId: project.id });
  const scoped = (status: SQL | undefined) =>
    and(
      eq(approvals.projectId, project.id),
      // An agent sees only what it asked for.
      actor.kind === "agent" ? eq(approvals.agentId, actor.agentId) : undefined,
      values.kind ? eq(approvals.kind, values.kind) : undefined,
      status,
    );
  const pending = () =>
    db
      .select()
      .from(approvals)
      .where(scoped(eq(approvals.status, "pending")))
      .orderBy(asc(approvals.requestedAt), asc(approvals.id))
      .limit(values.limit);
  const decided = (status: SQL) =>
    db
      .select()
      .from(approvals)
      .where(scoped(status))
      .orderBy(desc(approvals.decidedAt), desc(approvals.id))
      .limit(values.limit);
  let rows: ApprovalRow[];
  if (values.status === "pending") rows = await pending();
  else if (values.status === "decided") {
    rows = await decided(ne(approvals.status, "pending"));
  } else if (values.status) {
    rows = await decided(eq(approvals.status, values.status));
  } else {
    rows = [
      ...(await pending()),
      ...(await decided(ne(approvals.status, "pending"))),
    ];
  }

  return toViews(db, actor, role, rows);
}

/** Pending items, for the navigation badge. */
export async function countPendingApprovals(
  db: Database,
  actor: Actor,
  input: { project: string },
): Promise<{ pending: number }> {
  const { project } = await requireProjectRole(
    db,
    actor,
    input.project,
    "viewer",
  );
  await expireApprovals(db, { projectId: project.id });
  const [row] = await db
    .select({ count: sql<number>`count(*)` })
    .from(approvals)
    .where(
      and(eq(approvals.projectId, project.id), eq(approvals.status, "pending")),
    );

  return { pending: Number(row?.count ?? 0) };
}

/** The approval row, once the actor may see it (an agent: only its own). */
async function readableApproval(
  db: Database,
  actor: Actor,
  approvalId: string,
): Promise<{ row: ApprovalRow; role: Role }> {
  const row = await currentApproval(db, approvalId);
  if (!row) throw notFound("Approval", approvalId);
  const missing = () => notFound("Approval", approvalId);
  if (actor.kind === "agent" && row.agentId !== actor.agentId) throw missing();
  const { role } = await requireRoleIn(
    db,
    actor,
    row.projectId,
    "viewer",
    missing,
  );

  return { row, role };
}

export async function getApproval(
  db: Database,
  actor: Actor,
  input: z.input<typeof approvalIdInput>,
): Promise<ApprovalView> {
  const { approvalId } = parseInput(approvalIdInput, input);
  const { row, role } = await readableApproval(db, actor, approvalId);
  const [view] = await toViews(db, actor, role, [row]);

  return view;
}

/** An agent reads its approval, waiting up to `wait` seconds while it is
 * pending; a decision it reads is delivered. */
export async function awaitApproval(
  db: Database,
  actor: Actor,
  input: z.input<typeof agentApprovalInput>,
): Promise<ApprovalView> {
  const values = parseInput(agentApprovalInput, input);
  const { row, role } = await readableApproval(db, actor, values.approvalId);
  const settled =
    row.status === "pending" && values.wait > 0
      ? ((await waitForDecision(db, row.id, values.wait * 1000)) ?? row)
      : row;
  if (actor.kind === "agent" && settled.status !== "pending") {
    await markApprovalDelivered(db, settled.id);
  }
  const [view] = await toViews(db, actor, role, [
    { ...settled, deliveredAt: settled.deliveredAt ?? null },
  ]);

  return view;
}

const decidedWords = { approve: "approved", deny: "denied" } as const;

/** A person approves or denies a pending item. A plan is decided through
 * reviewPlan (as on the plan page); approving a budget increase raises the
 * goal's budget in the same transaction. */
export async function decideApproval(
  db: Database,
  actor: Actor,
  input: z.input<typeof decideApprovalInput>,
): Promise<ApprovalView> {
  const values = parseInput(decideApprovalInput, input);
  const missing = () => notFound("Approval", values.approvalId);
  const found = await currentApproval(db, values.approvalId);
  if (!found) throw missing();
  const { role } = await requireRoleIn(
    db,
    actor,
    found.projectId,
    "operator",
    missing,
  );
  if (actor.kind === "agent") {
    throw forbidden("Only a person may approve or deny; agents request");
  }
  if (!roleAtLeast(role, found.requiredRole as Role)) {
    throw forbidden(
      `This approval needs an admin; you are ${role}` +
        (found.reason ? `. ${found.reason}` : ""),
      { needed: found.requiredRole, role },
    );
  }
  if (found.status !== "pending") throw alreadyDecided(found);

  if (found.kind === "plan" && found.planId) {
    await reviewPlan(db, actor, {
      planId: found.planId,
      decision: values.decision === "approve" ? "approve" : "reject",
      comment: values.comment,
    });
  } else {
    await inTransaction(db, (tx) => settle(tx, actor, found, values));
  }

  return getApproval(db, actor, { approvalId: found.id });
}

function alreadyDecided(row: ApprovalRow) {
  return conflict(
    `This approval is already ${row.status}` +
      (row.decidedByLabel ? ` by ${row.decidedByLabel}` : ""),
    { status: row.status },
  );
}

/** In `tx`: the decision on a tool call or a budget increase, taken only
 * while the item is still pending, so two clicks decide once. */
async function settle(
  tx: Database,
  actor: Actor,
  found: ApprovalRow,
  values: z.infer<typeof decideApprovalInput>,
): Promise<void> {
  const at = now();
  const [row] = await tx
    .update(approvals)
    .set({
      status: decidedWords[values.decision],
      decidedAt: at,
      decidedBy: actorId(actor),
      decidedByLabel: actorLabel(actor),
      comment: values.comment || null,
    })
    .where(and(eq(approvals.id, found.id), eq(approvals.status, "pending")))
    .returning();
  if (!row) {
    const [now] = await tx
      .select()
      .from(approvals)
      .where(eq(approvals.id, found.id));
    throw alreadyDecided(now ?? found);
  }
  const details: Record<string, unknown> = {
    kind: row.kind,
    title: row.title,
    comment: values.comment || null,
    agentId: row.agentId,
  };
  if (row.kind === "budget_increase" && values.decision === "approve") {
    details.budget = await raiseBudget(tx, actor, row);
  }
  await settleApprovalNotifications(tx, row.projectId);
  await recordAudit(tx, actor, {
    projectId: row.projectId,
    action: `approval.${values.decision}`,
    targetType: "approval",
    targetId: row.id,
    details,
  });
}

/** The largest budget a goal may have (as createGoal and updateGoal
 * accept), so an approved increase leaves a goal one can still edit. */
const MAX_GOAL_BUDGET_USD = 1_000_000_000;

/** Adds the approved amount to the goal's budget; audited on the goal. */
async function raiseBudget(tx: Database, actor: Actor, row: ApprovalRow) {
  const amount = Number(row.payload.amountUsd);
  const [goal] = await tx
    .select()
    .from(goals)
    .where(eq(goals.id, row.goalId ?? ""))
    .for("update");
  if (!goal) throw notFound("Goal", row.goalId ?? "");
  if (goal.budgetUsd === null) {
    throw conflict(
      `Goal '${goal.title}' has no budget limit any more; nothing to raise`,
    );
  }
  const before = Number(goal.budgetUsd);
  const after =
    (Math.round(before * 10_000) + Math.round(amount * 10_000)) / 10_000;
  if (after > MAX_GOAL_BUDGET_USD) {
    throw conflict(
      `Raising goal '${goal.title}' from $${before} by $${amount} would pass ` +
        "the largest goal budget, $1,000,000,000; deny this request",
      { before, amountUsd: amount, max: MAX_GOAL_BUDGET_USD },
    );
  }
  await tx
    .update(goals)
    .set({ budgetUsd: after.toFixed(4), updatedAt: now() })
    .where(eq(goals.id, goal.id));
  await recordAudit(tx, actor, {
    projectId: row.projectId,
    action: "goal.budget_increase",
    targetType: "goal",
    targetId: goal.id,
    details: { approvalId: row.id, amountUsd: amount, before, after },
  });

  return { before, after };
}

/** An agent (or a person) asks for more budget on a goal; asking again
 * for the same amount while pending returns the same request. */
export async function requestBudgetIncrease(
  db: Database,
  actor: Actor,
  input: z.input<typeof budgetRequestInput>,
): Promise<{ approval: ApprovalView; created: boolean }> {
  const values = parseInput(budgetRequestInput, input, "request body");
  const goal = await findGoalRow(db, values.goalId);
  const { role } = await requireRoleIn(
    db,
    actor,
    goal.projectId,
    "operator",
    () => notFound("Goal", values.goalId),
  );
  if (goal.budgetUsd === null) {
    throw invalidInput(
      `Goal '${goal.title}' has no budget limit; there is nothing to raise`,
      [{ path: "goalId", message: "This goal has no budget" }],
    );
  }
  if (Number(goal.budgetUsd) + values.amountUsd > MAX_GOAL_BUDGET_USD) {
    const message =
      "A goal's budget is at most $1,000,000,000; this goal has " +
      `$${Number(goal.budgetUsd)}`;
    throw invalidInput(`Invalid input: amountUsd: ${message}`, [
      { path: "amountUsd", message },
    ]);
  }
  const agentId = actor.kind === "agent" ? actor.agentId : null;
  const amount = values.amountUsd.toFixed(2);
  const { approval, created } = await inTransaction(db, (tx) =>
    openApproval(tx, {
      projectId: goal.projectId,
      kind: "budget_increase",
      requiredRole: "operator",
      title: `Raise the budget of goal '${goal.title}' by $${amount}`,
      reason: values.reason,
      payload: {
        amountUsd: values.amountUsd,
        budgetUsd: Number(goal.budgetUsd),
        requestedBy: actorLabel(actor),
      },
      agentId,
      goalId: goal.id,
      dedupeKey: `budget:${actorId(actor)}:${goal.id}:${amount}`,
    }),
  );
  const [view] = await toViews(db, actor, role, [approval]);

  return { approval: view, created };
}
