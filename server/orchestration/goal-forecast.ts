import { inArray, sql } from "drizzle-orm";
import type { Database } from "@/db/client";
import { events, goals } from "@/db/schema";

// A goal's burn rate and where it leads: spend per day over the last seven
// days (or since the goal was created, if that is more recent), the spend
// that rate reaches by the due date, and the days left before the budget
// runs out. Without spend in the window there is no rate to project.

export const FORECAST_WINDOW_DAYS = 7;
const DAY_MS = 24 * 60 * 60 * 1000;
// A window shorter than this says too little about a daily rate.
const MIN_WINDOW_MS = 60 * 60 * 1000;

/** What the forecast is computed from, all amounts to date. */
export interface ForecastInput {
  at: Date;
  createdAt: Date;
  status: string;
  dueAt: Date | null;
  budgetUsd: number | null;
  budgetTokens: number | null;
  spendUsd: number;
  spendTokens: number;
  /** Spend since windowStart(createdAt, at). */
  windowUsd: number;
  windowTokens: number;
}

export interface GoalForecast {
  /** False when there is nothing to project from; `summary` says why. */
  enoughData: boolean;
  /** The days the rate was measured over (at most 7). */
  windowDays: number;
  usdPerDay: number | null;
  tokensPerDay: number | null;
  /** Spend to date plus the rate until the due date; null without one. */
  projectedUsdAtDue: number | null;
  projectedTokensAtDue: number | null;
  /** Days until spend reaches each budget at the rate; 0 when already
   * reached, null without a budget or without a rate. */
  daysUntilUsdBudget: number | null;
  daysUntilTokenBudget: number | null;
  summary: string;
}

/** Where the rate is measured from: a week ago, or the goal's creation if
 * that is later. */
export function windowStart(createdAt: Date, at: Date): Date {
  const weekAgo = at.getTime() - FORECAST_WINDOW_DAYS * DAY_MS;

  return new Date(Math.max(createdAt.getTime(), weekAgo));
}

function daysLeft(limit: number | null, spent: number, perDay: number) {
  if (limit === null) return null;
  if (spent >= limit) return 0;
  if (perDay <= 0) return null;

  return (limit - spent) / perDay;
}

function round(value: number, places: number): number {
  const factor = 10 ** places;

  return Math.round(value * factor) / factor;
}

export function forecastGoal(input: ForecastInput): GoalForecast {
  const windowMs =
    input.at.getTime() - windowStart(input.createdAt, input.at).getTime();
  const windowDays = round(Math.max(windowMs, 0) / DAY_MS, 2);
  const none = (summary: string): GoalForecast => ({
    enoughData: false,
    windowDays,
    usdPerDay: null,
    tokensPerDay: null,
    projectedUsdAtDue: null,
    projectedTokensAtDue: null,
    daysUntilUsdBudget: null,
    daysUntilTokenBudget: null,
    summary,
  });
  if (input.status === "done") return none("The goal is done.");
  if (windowMs < MIN_WINDOW_MS) {
    return none("Not enough data yet: the goal is less than an hour old.");
  }
  if (input.windowUsd <= 0 && input.windowTokens <= 0) {
    return none(
      `Not enough data: nothing was spent in the last ${windowDays} days.`,
    );
  }

  const usdPerDay = input.windowUsd / (windowMs / DAY_MS);
  const tokensPerDay = input.windowTokens / (windowMs / DAY_MS);
  const dueInDays =
    input.dueAt === null
      ? null
      : Math.max(input.dueAt.getTime() - input.at.getTime(), 0) / DAY_MS;
  const forecast: GoalForecast = {
    enoughData: true,
    windowDays,
    usdPerDay: round(usdPerDay, 4),
    tokensPerDay: Math.round(tokensPerDay),
    projectedUsdAtDue:
      dueInDays === null
        ? null
        : round(input.spendUsd + usdPerDay * dueInDays, 4),
    projectedTokensAtDue:
      dueInDays === null
        ? null
        : Math.round(input.spendTokens + tokensPerDay * dueInDays),
    daysUntilUsdBudget: nullableRound(
      daysLeft(input.budgetUsd, input.spendUsd, usdPerDay),
    ),
    daysUntilTokenBudget: nullableRound(
      daysLeft(input.budgetTokens, input.spendTokens, tokensPerDay),
    ),
    summary: "",
  };
  forecast.summary = summarize(forecast, input);

  return forecast;
}

function nullableRound(value: number | null): number | null {
  return value === null ? null : round(value, 1);
}

function summarize(f: GoalForecast, input: ForecastInput): string {
  const parts = [
    `Burning $${(f.usdPerDay ?? 0).toFixed(2)} and ` +
      `${(f.tokensPerDay ?? 0).toLocaleString("en-US")} tokens a day ` +
      `(last ${f.windowDays} days).`,
  ];
  if (f.projectedUsdAtDue !== null) {
    parts.push(
      `At this rate: $${f.projectedUsdAtDue.toFixed(2)} by the due date.`,
    );
  }
  for (const [days, unit] of [
    [f.daysUntilUsdBudget, "USD"],
    [f.daysUntilTokenBudget, "token"],
  ] as const) {
    if (days === 0) parts.push(`The ${unit} budget is used up.`);
    else if (days !== null) {
      parts.push(`The ${unit} budget runs out in ${days} days.`);
    }
  }
  const hasBudget = input.budgetUsd !== null || input.budgetTokens !== null;
  if (
    hasBudget &&
    f.daysUntilUsdBudget === null &&
    f.daysUntilTokenBudget === null
  ) {
    parts.push("No budget runs out at this rate.");
  }

  return parts.join(" ");
}

/** Per goal: tokens to date and the spend inside each goal's window. */
export async function goalBurn(
  db: Database,
  goalIds: string[],
  at: Date,
): Promise<
  Map<string, { tokens: number; windowUsd: number; windowTokens: number }>
> {
  const out = new Map(
    goalIds.map((id) => [id, { tokens: 0, windowUsd: 0, windowTokens: 0 }]),
  );
  if (goalIds.length === 0) return out;
  const weekAgo = new Date(at.getTime() - FORECAST_WINDOW_DAYS * DAY_MS);
  const tokenSum = sql`(coalesce(${events.inputTokens}, 0) +
    coalesce(${events.outputTokens}, 0) +
    coalesce(${events.cacheReadTokens}, 0) +
    coalesce(${events.cacheWrite5mTokens}, 0) +
    coalesce(${events.cacheWrite1hTokens}, 0))`;
  const inWindow = sql`${events.occurredAt} >= greatest(${goals.createdAt}, ${weekAgo.toISOString()}::timestamptz)
    and ${events.occurredAt} <= ${at.toISOString()}::timestamptz`;
  const rows = await db
    .select({
      goalId: events.goalId,
      tokens: sql<string>`coalesce(sum(${tokenSum}), 0)`,
      windowUsd: sql<string>`coalesce(sum(${events.costUsd}) filter (where ${inWindow}), 0)`,
      windowTokens: sql<string>`coalesce(sum(${tokenSum}) filter (where ${inWindow}), 0)`,
    })
    .from(events)
    .innerJoin(goals, sql`${goals.id} = ${events.goalId}`)
    .where(inArray(events.goalId, goalIds))
    .groupBy(events.goalId);
  for (const row of rows) {
    if (!row.goalId) continue;
    out.set(row.goalId, {
      tokens: Number(row.tokens),
      windowUsd: Number(row.windowUsd),
      windowTokens: Number(row.windowTokens),
    });
  }

  return out;
}
