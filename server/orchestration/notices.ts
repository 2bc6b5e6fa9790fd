import { and, eq, isNotNull, isNull, ne } from "drizzle-orm";
import type { Database } from "@/db/client";
import { plans } from "@/db/schema";
import {
  deliverApprovalDecisions,
  type ApprovalDecisionNotice,
} from "@/server/guardrails/approval-notices";
import type { Actor } from "@/server/identity/actor";
import { now } from "@/server/runtime";
import { deliverNewDirectives, type AgentDirective } from "./directives";
import type { PlanStatus } from "./schemas";

// Notices: news for an agent, carried in its heartbeat and claim responses
// so it need not poll: directives it has not been handed yet, review
// decisions on plans it wrote, and decisions on its approval requests.
// Each notice is handed out once; the update that marks it delivered is
// what picks it, so concurrent calls never both hand out the same one.

type AgentActor = Extract<Actor, { kind: "agent" }>;

export interface PlanDecisionNotice {
  id: string;
  goalId: string;
  version: number;
  status: PlanStatus;
  reviewComment: string | null;
  reviewedAt: Date | null;
}

export interface AgentNotices {
  directives: AgentDirective[];
  plans: PlanDecisionNotice[];
  /** Decisions on its tool-call and budget-increase approvals. */
  approvals: ApprovalDecisionNotice[];
}

/** Plans `actor` wrote whose review decision it has not been told of;
 * marks them told. */
async function deliverPlanDecisions(
  db: Database,
  actor: AgentActor,
  at: Date,
): Promise<PlanDecisionNotice[]> {
  const rows = await db
    .update(plans)
    .set({ decisionDeliveredAt: at })
    .where(
      and(
        eq(plans.projectId, actor.projectId),
        eq(plans.authorType, "agent"),
        eq(plans.authorId, actor.agentId),
        ne(plans.status, "submitted"),
        isNotNull(plans.reviewedAt),
        isNull(plans.decisionDeliveredAt),
      ),
    )
    .returning({
      id: plans.id,
      goalId: plans.goalId,
      version: plans.version,
      status: plans.status,
      reviewComment: plans.reviewComment,
      reviewedAt: plans.reviewedAt,
    });

  return rows
    .map((row) => ({ ...row, status: row.status as PlanStatus }))
    .sort((a, b) => a.goalId.localeCompare(b.goalId) || a.version - b.version);
}

export async function agentNotices(
  db: Database,
  actor: AgentActor,
): Promise<AgentNotices> {
  const at = now();

  return {
    directives: await deliverNewDirectives(db, actor.agentId, at),
    plans: await deliverPlanDecisions(db, actor, at),
    approvals: await deliverApprovalDecisions(
      db,
      actor.projectId,
      actor.agentId,
      at,
    ),
  };
}

/** A plan's author read the plan itself, so its decision is no news. */
export async function markPlanDecisionRead(
  db: Database,
  actor: Actor,
  planId: string,
): Promise<void> {
  if (actor.kind !== "agent") return;
  await db
    .update(plans)
    .set({ decisionDeliveredAt: now() })
    .where(
      and(
        eq(plans.id, planId),
        eq(plans.authorType, "agent"),
        eq(plans.authorId, actor.agentId),
        ne(plans.status, "submitted"),
        isNull(plans.decisionDeliveredAt),
      ),
    );
}
