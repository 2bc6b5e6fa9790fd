import { describe, expect, it } from "vitest";
import {
  claimInput,
  completeInput,
  createGoalInput,
  createTaskInput,
  heartbeatInput,
  requestReviewInput,
} from "./schemas";

const goalId = "00000000-0000-4000-8000-000000000001";

function issues(result: { success: boolean; error?: { issues: unknown[] } }) {
  return (result.error?.issues ?? []) as { path: unknown[]; message: string }[];
}

describe("task and goal inputs", () => {
  it("refuse a misspelt field instead of dropping it", () => {
    const result = createTaskInput.safeParse({
      goalId,
      title: "Paginate",
      estimatedUsd: 3,
    });
    expect(result.success).toBe(false);
    expect(issues(result)[0].message).toContain("estimatedUsd");
  });

  it("refuse amounts finer than four decimals instead of rounding them", () => {
    const fine = createTaskInput.safeParse({
      goalId,
      title: "Paginate",
      estimateUsd: 0.00001,
    });
    expect(fine.success).toBe(false);
    expect(issues(fine)[0]).toMatchObject({
      path: ["estimateUsd"],
      message: "Use at most 4 decimal places",
    });
    const budget = createGoalInput.safeParse({
      project: "shop",
      title: "Goal",
      budgetUsd: 12.3456,
    });
    expect(budget.success).toBe(true);
  });
});

describe("lease inputs", () => {
  it.each([
    ["claim", claimInput, { cout: 10 }, "cout"],
    ["heartbeat", heartbeatInput, { taskId: goalId, ttl: 60 }, "ttl"],
    ["complete", completeInput, { taskId: goalId, reslt: "PR" }, "reslt"],
    ["review", requestReviewInput, { taskId: goalId, notes: "x" }, "notes"],
  ] as const)(
    "refuse a misspelt %s field instead of ignoring it",
    (_, schema, body, field) => {
      const result = schema.safeParse(body);
      expect(result.success).toBe(false);
      expect(issues(result)[0].message).toContain(field);
    },
  );
});
