import { and, eq, ne } from "drizzle-orm";
import type { Database } from "@/db/client";
import { approvals } from "@/db/schema";
import { actorId, actorLabel, type Actor } from "@/server/identity/actor";
import {
  normalizeGlob,
  pathMatches,
  rootsOverlap,
  scopeRoot,
} from "@/server/orchestration/scopes";
import { now } from "@/server/runtime";
import { approvalSettingsFor } from "./approval-settings";
import { openApproval } from "./approval-store";

// Plans in the approvals queue. A submitted plan that waits for review is
// one "plan" approval; the plan page and the queue decide it through the
// same reviewPlan, which settles the approval in its transaction, so both
// views always agree. Plans above the project's cost threshold, or whose
// task scopes touch a protected path, need an admin.

export interface PlanGateTask {
  key: string;
  scope: string[];
  estimateUsd?: number | null;
}

export interface PlanGate {
  requiredRole: "operator" | "admin";
  /** Why an admin is needed, in words; empty for an operator. */
  reasons: string[];
  estimateTotalUsd: number;
}

const WILDCARD = /[*?[{]/;

/** Whether a task's scope glob may touch a protected glob: a concrete path
 * is matched against it; a pattern is compared by roots (cautiously, as
 * claims compare scopes). */
export function touchesProtected(scope: string, protectedGlob: string) {
  const concrete = !WILDCARD.test(normalizeGlob(scope));
  if (concrete && pathMatches(scope, protectedGlob)) return true;
  if (concrete && !WILDCARD.test(normalizeGlob(protectedGlob))) {
    return pathMatches(protectedGlob, scope);
  }
  if (concrete) return false;

  return rootsOverlap(scopeRoot(scope), scopeRoot(protectedGlob));
}

function dollars(value: number): string {
  return `$${value.toFixed(2)}`;
}

/** Who may approve a plan of these tasks under the project's settings. */
export async function planGate(
  db: Database,
  projectId: string,
  tasks: PlanGateTask[],
): Promise<PlanGate> {
  const settings = await approvalSettingsFor(db, projectId);
  const cents = tasks.reduce(
    (sum, task) => sum + Math.round((task.estimateUsd ?? 0) * 10_000),
    0,
  );
  const total = cents / 10_000;
  const reasons: string[] = [];
  const limit = settings.adminApprovalAboveUsd;
  if (limit !== null && total > limit) {
    reasons.push(
      `its tasks are estimated at ${dollars(total)}, above the ` +
        `${dollars(limit)} an operator may approve`,
    );
  }
  for (const task of tasks) {
    for (const scope of task.scope) {
      const hit = settings.protectedPaths.find((glob) =>
        touchesProtected(scope, glob),
      );
      if (hit) {
        reasons.push(
          `task ${task.key} touches the protected path ${hit} (scope ${scope})`,
        );
        break;
      }
    }
  }

  return {
    requiredRole: reasons.length > 0 ? "admin" : "operator",
    reasons,
    estimateTotalUsd: total,
  };
}

/** The refusal an operator gets for a plan that needs an admin. */
export function adminNeededMessage(gate: PlanGate): string {
  return `This plan needs an admin's approval: ${gate.reasons.join("; ")}`;
}

/** In `tx`: the queue item for a plan submitted for review, and the
 * earlier versions' items closed (a newer version supersedes them). */
export async function openPlanApproval(
  tx: Database,
  plan: {
    id: string;
    projectId: string;
    goalId: string;
    goalTitle: string;
    version: number;
    note: string;
    authorType: Actor["kind"];
    authorId: string;
  },
  gate: PlanGate,
): Promise<void> {
  await tx
    .update(approvals)
    .set({
      status: "cancelled",
      decidedAt: now(),
      decidedByLabel: "system",
      comment: `Superseded by plan v${plan.version}`,
    })
    .where(
      and(
        eq(approvals.goalId, plan.goalId),
        eq(approvals.kind, "plan"),
        eq(approvals.status, "pending"),
        ne(approvals.planId, plan.id),
      ),
    );
  const thresholds =
    gate.reasons.length > 0
      ? `Needs an admin: ${gate.reasons.join("; ")}`
      : "The goal requires plan approval";
  await openApproval(tx, {
    projectId: plan.projectId,
    kind: "plan",
    requiredRole: gate.requiredRole,
    title: `Plan v${plan.version} for goal '${plan.goalTitle}'`,
    reason: thresholds,
    payload: {
      version: plan.version,
      note: plan.note,
      estimateTotalUsd: gate.estimateTotalUsd,
    },
    agentId: plan.authorType === "agent" ? plan.authorId : null,
    goalId: plan.goalId,
    planId: plan.id,
    dedupeKey: `plan:${plan.id}`,
  });
}

/** In `tx`: the plan's queue item takes the review decision. Changes
 * requested closes it as denied, with the comment. The plan's own notice
 * tells the author; its delivery is copied to the item then. */
export async function settlePlanApproval(
  tx: Database,
  actor: Actor,
  planId: string,
  approved: boolean,
  comment: string | null,
): Promise<void> {
  const at = now();
  await tx
    .update(approvals)
    .set({
      status: approved ? "approved" : "denied",
      decidedAt: at,
      decidedBy: actorId(actor),
      decidedByLabel: actorLabel(actor),
      comment,
    })
    .where(
      and(
        eq(approvals.planId, planId),
        eq(approvals.kind, "plan"),
        eq(approvals.status, "pending"),
      ),
    );
}
