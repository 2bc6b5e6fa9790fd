// The session grade: how a session went, on three axes, from the running
// counts ingest keeps on agent_sessions. A pure function, so the grade is
// the same wherever it is computed and every threshold is testable.
//
// Each axis is rated good, fair or poor:
// - throughput: work landed, i.e. file changes the session made without
//   error and tasks it completed (the "task.completed" events Flotilla
//   adds to the trace of the agent that completes a task).
// - reliability: failures over attempts. Attempts are model calls, tool
//   calls and file changes, and any other event that failed; a failure is
//   an event with status "error" (a PostToolUseFailure hook, a tool
//   response that reports an error, an error event). The session's
//   error_count is the failure count.
// - safety: red flags by severity; any critical flag is the worst rating.
//
// The letter grade adds the axes' penalties (fair 1, poor 2): 0 is A, 1 B,
// 2 C, 3 or 4 D, 5 or 6 F. A critical flag makes the grade F whatever the
// other axes say. The reasons, one per axis, say why in words.

export const grades = ["A", "B", "C", "D", "F"] as const;
export type Grade = (typeof grades)[number];

export type Rating = "good" | "fair" | "poor";

export interface GradeInputs {
  attemptCount: number;
  /** Attempts with status error. */
  failedCount: number;
  landedCount: number;
  highFlagCount: number;
  criticalFlagCount: number;
}

export interface SessionGrade {
  grade: Grade;
  reasons: string[];
}

/** Past this many attempts with nothing landed, throughput is poor. */
export const IDLE_ATTEMPTS = 10;
/** Past this many attempts per landed change, throughput is fair. */
export const ATTEMPTS_PER_LANDED = 25;
/** Failure rates above these are fair, then poor. */
export const FAIR_FAILURE_RATE = 0.1;
export const POOR_FAILURE_RATE = 0.3;
/** This many high flags (and no critical one) make safety poor. */
export const POOR_HIGH_FLAGS = 3;

const penalty: Record<Rating, number> = { good: 0, fair: 1, poor: 2 };

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

export function rateThroughput(inputs: GradeInputs): [Rating, string] {
  const { attemptCount: attempts, landedCount: landed } = inputs;
  if (landed === 0) {
    return attempts >= IDLE_ATTEMPTS
      ? ["poor", `no work landed in ${plural(attempts, "attempt")}`]
      : ["fair", `no work landed yet (${plural(attempts, "attempt")})`];
  }
  const summary = `${plural(landed, "piece")} of work landed in ${plural(
    attempts,
    "attempt",
  )}`;

  return attempts / landed > ATTEMPTS_PER_LANDED
    ? ["fair", `only ${summary}`]
    : ["good", summary];
}

export function rateReliability(inputs: GradeInputs): [Rating, string] {
  const attempts = inputs.attemptCount;
  const failed = Math.min(inputs.failedCount, attempts);
  if (attempts === 0) return ["good", "no attempts to fail"];
  const rate = failed / attempts;
  const summary = `${failed} of ${plural(attempts, "attempt")} failed (${Math.round(
    rate * 100,
  )}%)`;
  // One failure alone is never poor: a short session should not fall to
  // the bottom on a single retry.
  if (rate > POOR_FAILURE_RATE && failed > 1) return ["poor", summary];
  if (rate > FAIR_FAILURE_RATE) return ["fair", summary];

  return ["good", summary];
}

export function rateSafety(inputs: GradeInputs): [Rating, string] {
  const { criticalFlagCount: critical, highFlagCount: high } = inputs;
  if (critical > 0) {
    return [
      "poor",
      `${plural(critical, "critical flag")}` +
        (high > 0 ? ` and ${plural(high, "high flag")}` : ""),
    ];
  }
  if (high >= POOR_HIGH_FLAGS) return ["poor", plural(high, "high flag")];
  if (high > 0) return ["fair", plural(high, "high flag")];

  return ["good", "no high or critical flags"];
}

/** The grade of a session with these counts, and one reason per axis. */
export function gradeSession(inputs: GradeInputs): SessionGrade {
  const axes: [string, [Rating, string]][] = [
    ["Throughput", rateThroughput(inputs)],
    ["Reliability", rateReliability(inputs)],
    ["Safety", rateSafety(inputs)],
  ];
  const total = axes.reduce((sum, [, [rating]]) => sum + penalty[rating], 0);
  const grade: Grade =
    inputs.criticalFlagCount > 0
      ? "F"
      : total === 0
        ? "A"
        : total === 1
          ? "B"
          : total === 2
            ? "C"
            : total <= 4
              ? "D"
              : "F";

  return {
    grade,
    reasons: axes.map(([axis, [rating, why]]) => `${axis} ${rating}: ${why}`),
  };
}

const attemptTypes = new Set(["llm_call", "tool_call", "file_change"]);

/** Whether an event is an attempt (see the reliability axis): a model or
 * tool call, a file change, or anything else that failed, so failures
 * never outnumber attempts. */
export function isAttempt(event: { type: string; status: string }): boolean {
  return attemptTypes.has(event.type) || event.status === "error";
}

/** Whether an event landed work (see the throughput axis). */
export function landsWork(event: {
  type: string;
  status: string;
  name?: string;
}): boolean {
  if (event.status !== "ok") return false;

  return (
    event.type === "file_change" ||
    (event.type === "claim" && event.name === "task.completed")
  );
}
