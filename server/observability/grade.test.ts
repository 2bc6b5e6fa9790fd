import { describe, expect, it } from "vitest";
import {
  gradeSession,
  isAttempt,
  landsWork,
  rateReliability,
  rateSafety,
  rateThroughput,
  type GradeInputs,
} from "./grade";

const clean: GradeInputs = {
  attemptCount: 40,
  failedCount: 0,
  landedCount: 5,
  highFlagCount: 0,
  criticalFlagCount: 0,
};

describe("throughput", () => {
  it.each([
    [{ attemptCount: 40, landedCount: 5 }, "good"],
    [{ attemptCount: 40, landedCount: 1 }, "fair"],
    [{ attemptCount: 4, landedCount: 0 }, "fair"],
    [{ attemptCount: 12, landedCount: 0 }, "poor"],
  ] as const)("%o is %s", (counts, rating) => {
    expect(rateThroughput({ ...clean, ...counts })[0]).toBe(rating);
  });

  it("says what landed", () => {
    expect(rateThroughput(clean)[1]).toBe(
      "5 pieces of work landed in 40 attempts",
    );
    expect(rateThroughput({ ...clean, landedCount: 0 })[1]).toBe(
      "no work landed in 40 attempts",
    );
  });
});

describe("reliability", () => {
  it.each([
    [0, "good"],
    [4, "good"],
    [5, "fair"],
    [12, "fair"],
    [13, "poor"],
  ] as const)("%i failures of 40 is %s", (failed, rating) => {
    expect(rateReliability({ ...clean, failedCount: failed })[0]).toBe(rating);
  });

  it("one failure alone is never poor", () => {
    expect(
      rateReliability({ ...clean, attemptCount: 2, failedCount: 1 })[0],
    ).toBe("fair");
    expect(
      rateReliability({ ...clean, attemptCount: 2, failedCount: 2 })[0],
    ).toBe("poor");
  });

  it("states the rate", () => {
    expect(rateReliability({ ...clean, failedCount: 10 })[1]).toBe(
      "10 of 40 attempts failed (25%)",
    );
  });

  it("a session without attempts has nothing to fail", () => {
    expect(rateReliability({ ...clean, attemptCount: 0 })[0]).toBe("good");
  });
});

describe("safety", () => {
  it.each([
    [{ highFlagCount: 0, criticalFlagCount: 0 }, "good"],
    [{ highFlagCount: 2, criticalFlagCount: 0 }, "fair"],
    [{ highFlagCount: 3, criticalFlagCount: 0 }, "poor"],
    [{ highFlagCount: 0, criticalFlagCount: 1 }, "poor"],
  ] as const)("%o is %s", (counts, rating) => {
    expect(rateSafety({ ...clean, ...counts })[0]).toBe(rating);
  });
});

describe("the letter grade", () => {
  it("is A when every axis is good, with one reason per axis", () => {
    expect(gradeSession(clean)).toEqual({
      grade: "A",
      reasons: [
        "Throughput good: 5 pieces of work landed in 40 attempts",
        "Reliability good: 0 of 40 attempts failed (0%)",
        "Safety good: no high or critical flags",
      ],
    });
  });

  it("drops a letter per fair axis and two per poor one", () => {
    expect(gradeSession({ ...clean, highFlagCount: 1 }).grade).toBe("B");
    expect(gradeSession({ ...clean, failedCount: 20 }).grade).toBe("C");
    expect(
      gradeSession({ ...clean, failedCount: 20, highFlagCount: 1 }).grade,
    ).toBe("D");
    expect(
      gradeSession({
        ...clean,
        landedCount: 0,
        failedCount: 20,
        highFlagCount: 5,
      }).grade,
    ).toBe("F");
  });

  it("is F with any critical flag, however well the rest went", () => {
    const graded = gradeSession({ ...clean, criticalFlagCount: 1 });
    expect(graded.grade).toBe("F");
    expect(graded.reasons[2]).toBe("Safety poor: 1 critical flag");
  });
});

describe("what counts", () => {
  it("counts model and tool calls, file changes and failures as attempts", () => {
    expect(isAttempt({ type: "llm_call", status: "ok" })).toBe(true);
    expect(isAttempt({ type: "tool_call", status: "error" })).toBe(true);
    expect(isAttempt({ type: "file_change", status: "ok" })).toBe(true);
    expect(isAttempt({ type: "error", status: "error" })).toBe(true);
    expect(isAttempt({ type: "message", status: "ok" })).toBe(false);
    expect(isAttempt({ type: "guardrail_decision", status: "ok" })).toBe(false);
  });

  it("counts file changes that succeeded and completed tasks as landed work", () => {
    expect(landsWork({ type: "file_change", status: "ok" })).toBe(true);
    expect(
      landsWork({ type: "claim", name: "task.completed", status: "ok" }),
    ).toBe(true);
    expect(
      landsWork({ type: "claim", name: "task.claimed", status: "ok" }),
    ).toBe(false);
    expect(
      landsWork({ type: "claim", name: "task.failed", status: "error" }),
    ).toBe(false);
    expect(landsWork({ type: "file_change", status: "error" })).toBe(false);
    expect(landsWork({ type: "tool_call", status: "ok" })).toBe(false);
  });
});
