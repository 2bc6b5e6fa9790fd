import { z } from "zod";
import type { Database } from "@/db/client";
import { conflict, notFound } from "@/server/errors";
import type { Actor } from "@/server/identity/actor";
import { parseInput } from "@/server/input";
import { updateGoal } from "./goals";
import { findGoalRow, requireRoleIn, type GoalView } from "./views";

// Pausing a goal (operator role): claims pass over its tasks, and tool calls
// by an agent still holding one of them are refused by the policy module
// with the reason. Resuming makes it active again. Both go through
// updateGoal, so they are audited as goal.update with the status before and
// after, like a status change made on the goal page.

export const goalPauseInput = z.object({ goalId: z.uuid("Must be a UUID") });

async function changeStatus(
  db: Database,
  actor: Actor,
  input: unknown,
  from: "active" | "paused",
  to: "active" | "paused",
): Promise<GoalView> {
  const { goalId } = parseInput(goalPauseInput, input);
  const goal = await findGoalRow(db, goalId);
  await requireRoleIn(db, actor, goal.projectId, "operator", () =>
    notFound("Goal", goalId),
  );
  if (goal.status !== from) {
    const verb = to === "paused" ? "paused" : "resumed";
    throw conflict(
      `Goal '${goal.title}' is ${goal.status}; only ${from === "active" ? "an active" : "a paused"} goal can be ${verb}`,
      { status: goal.status },
    );
  }

  return updateGoal(db, actor, { goalId, status: to });
}

export function pauseGoal(db: Database, actor: Actor, input: unknown) {
  return changeStatus(db, actor, input, "active", "paused");
}

export function resumeGoal(db: Database, actor: Actor, input: unknown) {
  return changeStatus(db, actor, input, "paused", "active");
}
