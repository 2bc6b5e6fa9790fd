import {
  and,
  asc,
  count,
  desc,
  eq,
  gt,
  gte,
  inArray,
  isNull,
  or,
  type SQL,
  sql,
} from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import type { Database } from "@/db/client";
import { readPause } from "@/server/guardrails/kill-switch";
import {
  agentSessions,
  agents,
  approvals,
  budgetAlerts,
  budgets,
  escalations,
  eventFlags,
  goals,
  tasks,
} from "@/db/schema";
import { periodWindows, projectTimeZone } from "@/server/guardrails/periods";
import { listGoals } from "@/server/orchestration/goals";
import type { GoalView } from "@/server/orchestration/views";
import { now } from "@/server/runtime";
import type { Actor } from "./actor";
import { requireProjectRole } from "./access";
import { agentPresence } from "./presence";

// The numbers on a project's overview page. Read-only counts across the
// layers; each layer's own pages hold the detail.

function tally(rows: { key: string; n: number | string }[]) {
  return Object.fromEntries(rows.map((row) => [row.key, Number(row.n)]));
}

export async function projectOverview(
  db: Database,
  actor: Actor,
  input: { project: string },
) {
  const { project, role } = await requireProjectRole(
    db,
    actor,
    input.project,
    "viewer",
  );
  const [goalRows, taskRows, agentRows, sessionRows] = await Promise.all([
    db
      .select({ key: goals.status, n: count() })
      .from(goals)
      .where(eq(goals.projectId, project.id))
      .groupBy(goals.status),
    db
      .select({ key: tasks.status, n: count() })
      .from(tasks)
      .where(eq(tasks.projectId, project.id))
      .groupBy(tasks.status),
    db
      .select({ key: agents.status, n: count() })
      .from(agents)
      .where(eq(agents.projectId, project.id))
      .groupBy(agents.status),
    db
      .select({ n: count() })
      .from(agentSessions)
      .where(eq(agentSessions.projectId, project.id)),
  ]);
  const goalsByStatus = tally(goalRows);
  const agentsByStatus = tally(agentRows);
  const sum = (m: Record<string, number>) =>
    Object.values(m).reduce((a, b) => a + b, 0);

  return {
    project,
    role,
    goals: { total: sum(goalsByStatus), byStatus: goalsByStatus },
    tasks: tally(taskRows),
    agents: { total: sum(agentsByStatus), byStatus: agentsByStatus },
    sessions: Number(sessionRows[0]?.n ?? 0),
  };
}

// The operator's home: what needs a person now, most urgent first, then
// how the fleet and the goals stand. Each section holds a count and its
// first few items; the pages behind the links hold the rest.

const TOP = 5;
const FLAG_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface HomeSection<T> {
  count: number;
  items: T[];
}

/** How many rows of `table` match `where`, and the first few of them
 * (`items`, a query on those rows limited to TOP). */
async function section<T>(
  db: Database,
  table: PgTable,
  where: SQL | undefined,
  items: PromiseLike<T[]>,
): Promise<HomeSection<T>> {
  const [total, rows] = await Promise.all([
    db.select({ n: count() }).from(table).where(where),
    items,
  ]);

  return { count: Number(total[0]?.n ?? 0), items: rows };
}

async function pendingApprovals(db: Database, projectId: string) {
  const where = and(
    eq(approvals.projectId, projectId),
    eq(approvals.status, "pending"),
    // An approval past its deadline is denied by the approvals queue as
    // soon as anyone looks; it no longer waits on a person.
    or(isNull(approvals.expiresAt), gt(approvals.expiresAt, now())),
  );
  return section(
    db,
    approvals,
    where,
    db
      .select({
        id: approvals.id,
        kind: approvals.kind,
        title: approvals.title,
        reason: approvals.reason,
        requiredRole: approvals.requiredRole,
        planId: approvals.planId,
        agentName: agents.name,
        requestedAt: approvals.requestedAt,
        expiresAt: approvals.expiresAt,
      })
      .from(approvals)
      .leftJoin(agents, eq(agents.id, approvals.agentId))
      .where(where)
      .orderBy(asc(approvals.requestedAt))
      .limit(TOP),
  );
}

async function blockedTasks(db: Database, projectId: string) {
  const where = and(
    eq(tasks.projectId, projectId),
    eq(tasks.status, "blocked"),
  );
  return section(
    db,
    tasks,
    where,
    db
      .select({
        id: tasks.id,
        title: tasks.title,
        goalTitle: goals.title,
        updatedAt: tasks.updatedAt,
      })
      .from(tasks)
      .innerJoin(goals, eq(goals.id, tasks.goalId))
      .where(where)
      .orderBy(desc(tasks.priority), asc(tasks.updatedAt))
      .limit(TOP),
  );
}

async function openEscalations(db: Database, projectId: string) {
  const where = and(
    eq(escalations.projectId, projectId),
    eq(escalations.status, "open"),
  );
  return section(
    db,
    escalations,
    where,
    db
      .select({
        id: escalations.id,
        kind: escalations.kind,
        reason: escalations.reason,
        taskId: escalations.taskId,
        taskTitle: tasks.title,
        createdAt: escalations.createdAt,
      })
      .from(escalations)
      .leftJoin(tasks, eq(tasks.id, escalations.taskId))
      .where(where)
      .orderBy(asc(escalations.createdAt))
      .limit(TOP),
  );
}

export interface BudgetAlertItem {
  budgetId: string;
  level: string;
  scope: string;
  /** The goal's or agent's name, or null for the project. */
  subject: string | null;
  unit: string;
  period: string;
  limit: number;
  raisedAt: Date;
}

/** Alerts raised in each budget's current period (hard before soft), and
 * goals whose own budget is spent. */
async function budgetAlertsNow(
  db: Database,
  projectId: string,
  goalRows: GoalView[],
): Promise<HomeSection<BudgetAlertItem>> {
  const at = now();
  const windows = await periodWindows(
    db,
    await projectTimeZone(db, projectId),
    at,
  );
  const rows = await db
    .select({
      budgetId: budgetAlerts.budgetId,
      level: budgetAlerts.level,
      periodStart: budgetAlerts.periodStart,
      raisedAt: budgetAlerts.createdAt,
      scope: budgets.scope,
      unit: budgets.unit,
      period: budgets.period,
      limit: budgets.limitAmount,
      goalTitle: goals.title,
      agentName: agents.name,
    })
    .from(budgetAlerts)
    .innerJoin(budgets, eq(budgets.id, budgetAlerts.budgetId))
    .leftJoin(goals, eq(goals.id, budgets.goalId))
    .leftJoin(agents, eq(agents.id, budgets.agentId))
    .where(eq(budgets.projectId, projectId))
    .orderBy(desc(budgetAlerts.createdAt))
    .limit(200);
  const current = rows.filter((row) => {
    const start = windows[row.period as keyof typeof windows]?.start;
    // A total budget never resets; others count from this period's start
    // (a second of slack for the epoch round trip).
    return !start || row.periodStart.getTime() >= start.getTime() - 1000;
  });
  // One line per budget: its highest level this period.
  const byBudget = new Map<string, (typeof current)[number]>();
  for (const row of current) {
    const seen = byBudget.get(row.budgetId);
    if (!seen || (seen.level !== "hard" && row.level === "hard")) {
      byBudget.set(row.budgetId, row);
    }
  }
  const items: BudgetAlertItem[] = [...byBudget.values()].map((row) => ({
    budgetId: row.budgetId,
    level: row.level,
    scope: row.scope,
    subject: row.goalTitle ?? row.agentName ?? null,
    unit: row.unit,
    period: row.period,
    limit: Number(row.limit),
    raisedAt: row.raisedAt,
  }));
  for (const goal of goalRows) {
    if (goal.status === "done") continue;
    const usdSpent = goal.overBudget;
    const tokensSpent =
      goal.budgetTokens !== null && goal.spendTokens >= goal.budgetTokens;
    if (!usdSpent && !tokensSpent) continue;
    items.push({
      budgetId: `goal:${goal.id}`,
      level: "hard",
      scope: "goal",
      subject: goal.title,
      unit: usdSpent ? "usd" : "tokens",
      period: "total",
      limit: (usdSpent ? goal.budgetUsd : goal.budgetTokens) ?? 0,
      raisedAt: goal.updatedAt,
    });
  }
  items.sort(
    (a, b) =>
      Number(b.level === "hard") - Number(a.level === "hard") ||
      b.raisedAt.getTime() - a.raisedAt.getTime(),
  );

  return { count: items.length, items: items.slice(0, TOP) };
}

async function recentRedFlags(db: Database, projectId: string) {
  const where = and(
    eq(eventFlags.projectId, projectId),
    inArray(eventFlags.severity, ["critical", "high"]),
    gte(eventFlags.createdAt, new Date(now().getTime() - FLAG_WINDOW_MS)),
  );
  return section(
    db,
    eventFlags,
    where,
    db
      .select({
        id: eventFlags.id,
        rule: eventFlags.rule,
        severity: eventFlags.severity,
        excerpt: eventFlags.excerpt,
        sessionId: eventFlags.sessionId,
        agentName: agents.name,
        createdAt: eventFlags.createdAt,
      })
      .from(eventFlags)
      .innerJoin(agentSessions, eq(agentSessions.id, eventFlags.sessionId))
      .innerJoin(agents, eq(agents.id, agentSessions.agentId))
      .where(where)
      .orderBy(
        sql`case ${eventFlags.severity} when 'critical' then 0 else 1 end`,
        desc(eventFlags.createdAt),
      )
      .limit(TOP),
  );
}

async function fleet(db: Database, projectId: string) {
  const at = now();
  const [agentRows, inFlight] = await Promise.all([
    db
      .select({
        id: agents.id,
        name: agents.name,
        status: agents.status,
        lastSeenAt: agents.lastSeenAt,
      })
      .from(agents)
      .where(eq(agents.projectId, projectId))
      .orderBy(asc(agents.name)),
    db
      .select({
        id: tasks.id,
        title: tasks.title,
        status: tasks.status,
        agentId: tasks.holderAgentId,
        agentName: agents.name,
        leaseExpiresAt: tasks.leaseExpiresAt,
      })
      .from(tasks)
      .leftJoin(agents, eq(agents.id, tasks.holderAgentId))
      .where(
        and(
          eq(tasks.projectId, projectId),
          inArray(tasks.status, ["claimed", "in_progress"]),
        ),
      )
      .orderBy(asc(tasks.leaseExpiresAt))
      .limit(10),
  ]);
  // Tasks held per agent, all of them (the list above shows the first).
  const heldRows = await db
    .select({ agentId: tasks.holderAgentId, n: count() })
    .from(tasks)
    .where(
      and(
        eq(tasks.projectId, projectId),
        inArray(tasks.status, ["claimed", "in_progress"]),
      ),
    )
    .groupBy(tasks.holderAgentId);
  const held = new Map<string, number>();
  let flightTotal = 0;
  for (const row of heldRows) {
    flightTotal += Number(row.n);
    if (row.agentId) held.set(row.agentId, Number(row.n));
  }
  const presence = { online: 0, idle: 0, offline: 0 };
  const list = agentRows.map((agent) => {
    const state = agentPresence(
      { lastSeenAt: agent.lastSeenAt, holdsTask: held.has(agent.id) },
      at,
    );
    presence[state] += 1;

    return {
      id: agent.id,
      name: agent.name,
      paused: agent.status === "paused",
      presence: state,
      held: held.get(agent.id) ?? 0,
    };
  });
  return {
    agents: list,
    presence,
    paused: list.filter((agent) => agent.paused).length,
    inFlight: { count: flightTotal, items: inFlight },
  };
}

/** Everything the project's home page shows, for any role in it. */
export async function operatorHome(
  db: Database,
  actor: Actor,
  input: { project: string },
) {
  const { project, role } = await requireProjectRole(
    db,
    actor,
    input.project,
    "viewer",
  );
  const goalList = await listGoals(db, actor, { project: project.id });
  const openGoals = goalList.filter((goal) => goal.status !== "done");
  const [
    approvalsWaiting,
    blocked,
    escalationsOpen,
    budgetsNow,
    flags,
    fleetNow,
    pause,
  ] = await Promise.all([
    pendingApprovals(db, project.id),
    blockedTasks(db, project.id),
    openEscalations(db, project.id),
    budgetAlertsNow(db, project.id, goalList),
    recentRedFlags(db, project.id),
    fleet(db, project.id),
    readPause(db, project.id),
  ]);

  return {
    project,
    role,
    // The kill switch: shown first, since nothing runs while it is on.
    pause,
    approvals: approvalsWaiting,
    blockedTasks: blocked,
    escalations: escalationsOpen,
    budgetAlerts: budgetsNow,
    redFlags: flags,
    fleet: fleetNow,
    goals: { count: openGoals.length, items: openGoals.slice(0, 10) },
  };
}

export type OperatorHome = Awaited<ReturnType<typeof operatorHome>>;
