import { and, eq, inArray, isNotNull, sql } from "drizzle-orm";
import type { Database } from "@/db/client";
import { events, goals } from "@/db/schema";
import { forbidden } from "@/server/errors";
import type { Decision } from "./agents";

// A goal's budget is a hard limit. Its spend is the sum of the cost of every
// event attributed to the goal; once that reaches the budget, the goal's
// tasks can no longer be claimed.

export interface GoalBudget {
  id: string;
  title: string;
  /** Null means the goal has no budget. */
  budgetUsd: number | null;
}

export interface GoalSpend extends GoalBudget {
  spendUsd: number;
}

export function formatUsd(value: number): string {
  return `$${value.toFixed(2)}`;
}

export function isOverBudget(budgetUsd: number | null, spendUsd: number) {
  return budgetUsd !== null && spendUsd >= budgetUsd;
}

/** Spend to date of each goal, in USD; goals without events spent 0. */
export async function goalSpends(
  db: Database,
  goalIds: string[],
): Promise<Map<string, number>> {
  const spends = new Map<string, number>(goalIds.map((id) => [id, 0]));
  if (goalIds.length === 0) return spends;
  const rows = await db
    .select({
      goalId: events.goalId,
      spend: sql<string>`coalesce(sum(${events.costUsd}), 0)`,
    })
    .from(events)
    .where(inArray(events.goalId, goalIds))
    .groupBy(events.goalId);
  for (const row of rows) {
    if (row.goalId) spends.set(row.goalId, Number(row.spend));
  }

  return spends;
}

export async function goalSpend(db: Database, goalId: string) {
  const spends = await goalSpends(db, [goalId]);

  return spends.get(goalId) ?? 0;
}

export function budgetDecision(goal: GoalSpend): Decision {
  if (!isOverBudget(goal.budgetUsd, goal.spendUsd)) return { allowed: true };

  return {
    allowed: false,
    rule: "goal.budget",
    reason:
      `Goal '${goal.title}' has spent ${formatUsd(goal.spendUsd)} ` +
      `of its ${formatUsd(goal.budgetUsd ?? 0)} budget`,
  };
}

/** Throws 403 naming the goal, its spend and its budget. */
export function assertWithinBudget(goal: GoalSpend): void {
  const decision = budgetDecision(goal);
  if (!decision.allowed) {
    throw forbidden(decision.reason, {
      rule: decision.rule,
      goalId: goal.id,
      spendUsd: goal.spendUsd,
      budgetUsd: goal.budgetUsd,
    });
  }
}

/** The goals of a project whose spend has reached their budget. */
export async function overBudgetGoals(
  db: Database,
  projectId: string,
): Promise<GoalSpend[]> {
  const budgeted = await db
    .select({ id: goals.id, title: goals.title, budgetUsd: goals.budgetUsd })
    .from(goals)
    .where(and(eq(goals.projectId, projectId), isNotNull(goals.budgetUsd)));
  const spends = await goalSpends(
    db,
    budgeted.map((goal) => goal.id),
  );

  return budgeted
    .map((goal) => ({
      id: goal.id,
      title: goal.title,
      budgetUsd: Number(goal.budgetUsd),
      spendUsd: spends.get(goal.id) ?? 0,
    }))
    .filter((goal) => isOverBudget(goal.budgetUsd, goal.spendUsd));
}
