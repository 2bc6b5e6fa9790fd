import { inArray, sql } from "drizzle-orm";
import type { Database } from "@/db/client";
import { events } from "@/db/schema";

// A goal's own USD budget, as goal lists show it: its spend is the sum of
// the cost of every event attributed to the goal. Claims and tool calls
// enforce it with the period budgets (budget-spend.ts), as a total budget.

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
