import { describe, expect, it } from "vitest";
import { forecastGoal, windowStart, type ForecastInput } from "./goal-forecast";

const DAY = 24 * 60 * 60 * 1000;
const at = new Date("2026-03-20T12:00:00Z");

function input(changes: Partial<ForecastInput>): ForecastInput {
  return {
    at,
    createdAt: new Date(at.getTime() - 30 * DAY),
    status: "active",
    dueAt: null,
    budgetUsd: null,
    budgetTokens: null,
    spendUsd: 0,
    spendTokens: 0,
    windowUsd: 0,
    windowTokens: 0,
    ...changes,
  };
}

describe("goal forecast", () => {
  it("measures the rate over the last seven days of an older goal", () => {
    const forecast = forecastGoal(
      input({
        spendUsd: 40,
        windowUsd: 14,
        spendTokens: 900_000,
        windowTokens: 700_000,
        budgetUsd: 50,
        budgetTokens: 1_000_000,
        dueAt: new Date(at.getTime() + 10 * DAY),
      }),
    );

    expect(forecast.enoughData).toBe(true);
    expect(forecast.windowDays).toBe(7);
    expect(forecast.usdPerDay).toBe(2);
    expect(forecast.tokensPerDay).toBe(100_000);
    // $40 so far + 10 days at $2.
    expect(forecast.projectedUsdAtDue).toBe(60);
    expect(forecast.projectedTokensAtDue).toBe(1_900_000);
    // $10 left at $2 a day; 100,000 tokens left at 100,000 a day.
    expect(forecast.daysUntilUsdBudget).toBe(5);
    expect(forecast.daysUntilTokenBudget).toBe(1);
    expect(forecast.summary).toContain("The USD budget runs out in 5 days.");
    expect(forecast.summary).toContain("$60.00 by the due date");
  });

  it("measures a younger goal since it was created", () => {
    const createdAt = new Date(at.getTime() - 2 * DAY);
    expect(windowStart(createdAt, at)).toEqual(createdAt);
    const forecast = forecastGoal(
      input({ createdAt, spendUsd: 3, windowUsd: 3, budgetUsd: 9 }),
    );

    expect(forecast.windowDays).toBe(2);
    expect(forecast.usdPerDay).toBe(1.5);
    expect(forecast.daysUntilUsdBudget).toBe(4);
    expect(forecast.projectedUsdAtDue).toBeNull();
  });

  it("says a spent budget is used up and a due date past is now", () => {
    const forecast = forecastGoal(
      input({
        spendUsd: 12,
        windowUsd: 7,
        budgetUsd: 10,
        dueAt: new Date(at.getTime() - DAY),
      }),
    );

    expect(forecast.daysUntilUsdBudget).toBe(0);
    expect(forecast.projectedUsdAtDue).toBe(12);
    expect(forecast.summary).toContain("The USD budget is used up.");
  });

  it("says honestly when there is nothing to project from", () => {
    const quiet = forecastGoal(input({ spendUsd: 5, budgetUsd: 10 }));
    expect(quiet.enoughData).toBe(false);
    expect(quiet.usdPerDay).toBeNull();
    expect(quiet.daysUntilUsdBudget).toBeNull();
    expect(quiet.summary).toBe(
      "Not enough data: nothing was spent in the last 7 days.",
    );

    const fresh = forecastGoal(
      input({
        createdAt: new Date(at.getTime() - 10 * 60 * 1000),
        windowUsd: 1,
      }),
    );
    expect(fresh.enoughData).toBe(false);
    expect(fresh.summary).toContain("less than an hour old");

    const done = forecastGoal(input({ status: "done", windowUsd: 5 }));
    expect(done.enoughData).toBe(false);
    expect(done.summary).toBe("The goal is done.");
  });

  it("does not invent a run-out day when only the other unit burns", () => {
    const forecast = forecastGoal(
      input({ windowTokens: 7_000, spendTokens: 7_000, budgetUsd: 10 }),
    );

    expect(forecast.usdPerDay).toBe(0);
    expect(forecast.daysUntilUsdBudget).toBeNull();
    expect(forecast.summary).toContain("No budget runs out at this rate.");
  });
});
