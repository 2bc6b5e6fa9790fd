import { and, eq, inArray, isNull, ne, sql } from "drizzle-orm";
import type { Database } from "@/db/client";
import { approvals } from "@/db/schema";

// Decisions on an agent's approval requests (tool calls, budget increases)
// carried in its next claim or heartbeat response, each once: the update
// that marks one delivered is what picks it. Plan decisions travel as plan
// notices; their queue items are marked delivered when those are.

export interface ApprovalDecisionNotice {
  id: string;
  kind: "tool" | "budget_increase";
  title: string;
  status: "approved" | "denied" | "expired" | "cancelled";
  comment: string | null;
  decidedBy: string | null;
  decidedAt: Date | null;
}

export async function deliverApprovalDecisions(
  db: Database,
  projectId: string,
  agentId: string,
  at: Date,
): Promise<ApprovalDecisionNotice[]> {
  const rows = await db
    .update(approvals)
    .set({ deliveredAt: at })
    .where(
      and(
        eq(approvals.projectId, projectId),
        eq(approvals.agentId, agentId),
        inArray(approvals.kind, ["tool", "budget_increase"]),
        ne(approvals.status, "pending"),
        isNull(approvals.deliveredAt),
      ),
    )
    .returning({
      id: approvals.id,
      kind: approvals.kind,
      title: approvals.title,
      status: approvals.status,
      comment: approvals.comment,
      decidedBy: approvals.decidedByLabel,
      decidedAt: approvals.decidedAt,
    });
  await db.execute(sql`
    update approvals a set delivered_at = p.decision_delivered_at
    from plans p
    where a.plan_id = p.id and a.kind = 'plan' and a.agent_id = ${agentId}
      and a.status <> 'pending' and a.delivered_at is null
      and p.decision_delivered_at is not null`);

  return rows
    .map((row) => ({
      ...row,
      kind: row.kind as ApprovalDecisionNotice["kind"],
      status: row.status as ApprovalDecisionNotice["status"],
    }))
    .sort(
      (a, b) =>
        (a.decidedAt?.getTime() ?? 0) - (b.decidedAt?.getTime() ?? 0) ||
        a.id.localeCompare(b.id),
    );
}
