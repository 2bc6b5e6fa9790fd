import { describe, expect, it } from "vitest";
import { DomainError } from "@/server/errors";
import { taskStatuses, type TaskStatus } from "./schemas";
import {
  assertTransition,
  isAllowed,
  lapsableStatuses,
  sourcesOf,
  taskTransitionTable,
  transitionActorTypes,
  type TransitionActorType,
} from "./states";

type Case = [TaskStatus, TaskStatus, TransitionActorType];

const allowed: Case[] = [
  ["draft", "ready", "system"],
  ["draft", "ready", "operator"],
  ["draft", "cancelled", "operator"],
  ["ready", "claimed", "agent"],
  ["ready", "claimed", "operator"],
  ["ready", "draft", "system"],
  ["ready", "blocked", "operator"],
  ["ready", "cancelled", "operator"],
  ["claimed", "in_progress", "agent"],
  ["claimed", "blocked", "agent"],
  ["claimed", "done", "agent"],
  ["claimed", "failed", "agent"],
  ["claimed", "failed", "system"],
  ["claimed", "ready", "agent"],
  ["claimed", "ready", "operator"],
  ["claimed", "ready", "system"],
  ["claimed", "cancelled", "operator"],
  ["in_progress", "in_review", "agent"],
  ["in_progress", "done", "agent"],
  ["in_progress", "failed", "agent"],
  ["in_progress", "failed", "system"],
  ["in_progress", "blocked", "agent"],
  ["in_progress", "ready", "agent"],
  ["in_progress", "ready", "operator"],
  ["in_progress", "ready", "system"],
  ["in_progress", "cancelled", "operator"],
  ["in_review", "done", "operator"],
  ["in_review", "ready", "operator"],
  ["in_review", "cancelled", "operator"],
  ["blocked", "ready", "operator"],
  ["blocked", "cancelled", "operator"],
];

const refused: [...Case, string][] = [
  [
    "draft",
    "claimed",
    "agent",
    "Task 'T' is draft: it cannot move from draft to claimed",
  ],
  [
    "ready",
    "claimed",
    "system",
    "Task 'T' is ready: only an agent or an operator may move it from ready to claimed",
  ],
  [
    "ready",
    "done",
    "agent",
    "Task 'T' is ready: it cannot move from ready to done",
  ],
  [
    "claimed",
    "cancelled",
    "agent",
    "Task 'T' is claimed: only an operator may move it from claimed to cancelled",
  ],
  [
    "claimed",
    "done",
    "operator",
    "Task 'T' is claimed: only an agent may move it from claimed to done",
  ],
  [
    "in_progress",
    "failed",
    "operator",
    "Task 'T' is in_progress: only an agent or the system may move it from in_progress to failed",
  ],
  [
    "in_review",
    "done",
    "agent",
    "Task 'T' is in_review: only an operator may move it from in_review to done",
  ],
  [
    "blocked",
    "ready",
    "agent",
    "Task 'T' is blocked: only an operator may move it from blocked to ready",
  ],
  [
    "done",
    "ready",
    "operator",
    "Task 'T' is done: it cannot move from done to ready",
  ],
  [
    "done",
    "cancelled",
    "operator",
    "Task 'T' is done: it cannot move from done to cancelled",
  ],
  [
    "failed",
    "ready",
    "system",
    "Task 'T' is failed: it cannot move from failed to ready",
  ],
  [
    "cancelled",
    "ready",
    "operator",
    "Task 'T' is cancelled: it cannot move from cancelled to ready",
  ],
];

describe("the task state machine", () => {
  it.each(allowed)("lets %s -> %s by %s", (from, to, by) => {
    expect(isAllowed(from, to, by)).toBe(true);
    expect(() => assertTransition({ title: "T" }, from, to, by)).not.toThrow();
  });

  it.each(refused)("refuses %s -> %s by %s", (from, to, by, message) => {
    expect(isAllowed(from, to, by)).toBe(false);
    let caught: unknown;
    try {
      assertTransition({ title: "T" }, from, to, by);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DomainError);
    const error = caught as DomainError;
    expect(error.status).toBe(409);
    expect(error.message).toBe(message);
    expect(error.details).toMatchObject({ status: from, to });
  });

  it("allows exactly the listed transitions and nothing else", () => {
    const listed = new Set(allowed.map((c) => c.join(" ")));
    for (const from of taskStatuses) {
      for (const to of taskStatuses) {
        for (const by of transitionActorTypes) {
          const key = `${from} ${to} ${by}`;
          expect(isAllowed(from, to, by), key).toBe(listed.has(key));
        }
      }
    }
  });

  it("has final states with no way out", () => {
    for (const final of ["done", "failed", "cancelled"] as const) {
      expect(taskTransitionTable[final]).toBeUndefined();
    }
  });

  it("derives what claims and the sweeper may pick", () => {
    expect(sourcesOf("claimed", "agent")).toEqual(["ready"]);
    expect(sourcesOf("ready", "system")).toEqual([
      "draft",
      "claimed",
      "in_progress",
    ]);
    expect(lapsableStatuses()).toEqual(["claimed", "in_progress"]);
  });
});
