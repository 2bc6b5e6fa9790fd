import { eq, sql } from "drizzle-orm";
import { inTransaction, queryRows, type Database } from "@/db/client";
import { budgetAlerts, projects } from "@/db/schema";
import { now } from "@/server/runtime";
import {
  budgetName,
  exhaustedMessage,
  formatAmount,
  loadBudgetRules,
  measureBudgets,
  type BudgetStatus,
} from "./budget-spend";
import { notify, type NewNotification } from "./notify";

// Budget alerts: when a budget's spend reaches its soft threshold, or its
// limit, the project's operators are told once per period (a budget_alerts
// row per budget, period and level, and a notification). Claims check the
// budgets they weigh; the sweeper checks every budget on each pass, so
// spend reported between claims is noticed within one sweep.

type Level = "soft" | "hard";

// A total budget has one period, from the beginning of time.
const TOTAL_PERIOD_START = new Date(0);

function levelOf(status: BudgetStatus): Level | null {
  if (status.state === "exhausted") return "hard";
  if (status.state === "soft") return "soft";

  return null;
}

/** Raises the alert each budget in `statuses` is due in its current period
 * and has not raised yet; returns how many were raised. */
export async function raiseBudgetAlerts(
  db: Database,
  projectId: string,
  statuses: BudgetStatus[],
): Promise<number> {
  const due = statuses.filter((status) => levelOf(status) !== null);
  if (due.length === 0) return 0;
  const [project] = await db
    .select({ id: projects.id, slug: projects.slug })
    .from(projects)
    .where(eq(projects.id, projectId))
    .limit(1);
  if (!project) return 0;
  let raised = 0;
  for (const status of due) {
    const level = levelOf(status)!;
    const periodStart = status.periodStart ?? TOTAL_PERIOD_START;
    const fresh = await inTransaction(db, async (tx) => {
      if (status.source === "budget") {
        const [row] = await tx
          .insert(budgetAlerts)
          .values({ budgetId: status.id, periodStart, level, createdAt: now() })
          .onConflictDoNothing()
          .returning({ budgetId: budgetAlerts.budgetId });
        // Already raised this period, or the budget was removed meanwhile.
        if (!row) return false;
      }

      return (
        (await notify(tx, alertNotification(project, status, level))) !== null
      );
    }).catch((error: unknown) => {
      // A budget removed between reading and alerting has nothing to say.
      if (isForeignKeyViolation(error)) return false;
      throw error;
    });
    if (fresh) raised += 1;
  }

  return raised;
}

function alertNotification(
  project: { id: string; slug: string },
  status: BudgetStatus,
  level: Level,
): NewNotification {
  const name = budgetName(status);
  const periodKey =
    status.periodStart?.toISOString() ?? TOTAL_PERIOD_START.toISOString();
  const common = {
    projectId: project.id,
    link: `/projects/${project.slug}/guardrails`,
    details: {
      budgetId: status.source === "budget" ? status.id : null,
      scope: status.scope,
      goalId: status.goalId,
      agentId: status.agentId,
      unit: status.unit,
      period: status.period,
      spend: status.spend,
      limit: status.limit,
      percent: Math.round(status.percent),
      periodStart: status.periodStart?.toISOString() ?? null,
      resetsAt: status.periodEnd?.toISOString() ?? null,
    },
    // The limit is part of the key: a raised limit may alert again.
    dedupeKey: `budget:${status.id}:${periodKey}:${level}:${status.limit}`,
  };
  if (level === "hard") {
    return {
      ...common,
      kind: "budget_exhausted",
      severity: "critical",
      title: `${name} is used up`,
      body:
        `${exhaustedMessage(status)}. Claims and tool calls it covers are ` +
        "refused until it resets or an admin raises it.",
    };
  }

  return {
    ...common,
    kind: "budget_threshold",
    severity: "warning",
    title: `${name} reached ${status.softPercent}%`,
    body:
      `${formatAmount(status.unit, status.spend)} spent of ` +
      `${formatAmount(status.unit, status.limit)} ` +
      `(${Math.round(status.percent)}%); ${status.resets}.`,
  };
}

function isForeignKeyViolation(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    if ((current as { code?: string }).code === "23503") return true;
    current = (current as { cause?: unknown }).cause;
  }

  return false;
}

/** One pass over every project with a budget: raises the alerts due. */
export async function sweepBudgetAlerts(db: Database): Promise<number> {
  const rows = await queryRows<{ project_id: string }>(
    db,
    sql`select project_id from budgets
      union
      select project_id from goals
      where budget_usd is not null or budget_tokens is not null`,
  );
  const at = now();
  let raised = 0;
  for (const { project_id: projectId } of rows) {
    const rules = await loadBudgetRules(db, projectId);
    const statuses = await measureBudgets(db, projectId, rules, at);
    raised += await raiseBudgetAlerts(db, projectId, statuses);
  }

  return raised;
}
