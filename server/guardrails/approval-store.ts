import { and, eq, isNotNull, isNull, lte, ne, sql } from "drizzle-orm";
import { type Database, inTransaction } from "@/db/client";
import { approvals, auditLog, projects } from "@/db/schema";
import { newId, now } from "@/server/runtime";
import { conflict, DomainError } from "@/server/errors";
import { notify } from "./notify";

// Rows of the approvals queue, written the same way by every kind: a new
// request (once per dedupe key while it is pending, with an
// "approval_waiting" notification), and the timeout that denies one.

export type ApprovalRow = typeof approvals.$inferSelect;

export const approvalKinds = ["plan", "tool", "budget_increase"] as const;
export type ApprovalKind = (typeof approvalKinds)[number];
export const approvalStatuses = [
  "pending",
  "approved",
  "denied",
  "expired",
  "cancelled",
] as const;
export type ApprovalStatus = (typeof approvalStatuses)[number];

export interface NewApproval {
  projectId: string;
  kind: ApprovalKind;
  requiredRole: "operator" | "admin";
  title: string;
  reason: string;
  payload: Record<string, unknown>;
  agentId?: string | null;
  sessionId?: string | null;
  goalId?: string | null;
  taskId?: string | null;
  planId?: string | null;
  dedupeKey?: string | null;
  expiresAt?: Date | null;
}

const kindWords: Record<ApprovalKind, string> = {
  plan: "A plan",
  tool: "A tool call",
  budget_increase: "A budget increase",
};

/** Records a pending approval in `tx`, or finds the pending one with the
 * same dedupe key; `created` says which. A new one notifies the project's
 * operators once. */
export async function openApproval(
  tx: Database,
  values: NewApproval,
): Promise<{ approval: ApprovalRow; created: boolean }> {
  if (values.agentId && values.kind !== "plan") {
    await assertRoomToAsk(tx, values);
  }
  const [row] = await tx
    .insert(approvals)
    .values({
      id: newId(),
      projectId: values.projectId,
      kind: values.kind,
      status: "pending",
      requiredRole: values.requiredRole,
      title: values.title,
      reason: values.reason,
      payload: values.payload,
      agentId: values.agentId ?? null,
      sessionId: values.sessionId ?? null,
      goalId: values.goalId ?? null,
      taskId: values.taskId ?? null,
      planId: values.planId ?? null,
      dedupeKey: values.dedupeKey ?? null,
      requestedAt: now(),
      expiresAt: values.expiresAt ?? null,
    })
    .onConflictDoNothing({
      target: [approvals.projectId, approvals.dedupeKey],
      where: sql`status = 'pending' and dedupe_key is not null`,
    })
    .returning();
  if (!row) {
    const [pending] = await tx
      .select()
      .from(approvals)
      .where(
        and(
          eq(approvals.projectId, values.projectId),
          eq(approvals.dedupeKey, values.dedupeKey ?? ""),
          eq(approvals.status, "pending"),
        ),
      )
      .limit(1);
    // Decided between our insert and this read: ask the caller to retry.
    if (!pending) {
      throw conflict(
        "The same request was decided a moment ago; send it again",
        { retry: true },
      );
    }

    return { approval: pending, created: false };
  }
  const [project] = await tx
    .select({ slug: projects.slug })
    .from(projects)
    .where(eq(projects.id, values.projectId))
    .limit(1);
  await notify(tx, {
    projectId: values.projectId,
    kind: "approval_waiting",
    severity: "warning",
    title: `${kindWords[values.kind]} waits for approval: ${row.title}`,
    body: values.reason,
    link: project ? `/projects/${project.slug}/approvals` : undefined,
    details: { approvalId: row.id, kind: row.kind },
    dedupeKey: `approval:${row.id}`,
  });

  return { approval: row, created: true };
}

const TIMEOUT_LABEL = "system:approval-timeout";

/** How many requests (tool calls, budget increases) one agent may have
 * waiting for a person at once; beyond it, asking again is refused until
 * some are decided or expire, so one agent cannot flood the queue. */
export const MAX_PENDING_PER_AGENT = 20;

async function assertRoomToAsk(
  tx: Database,
  values: NewApproval,
): Promise<void> {
  const [row] = await tx
    .select({
      pending: sql<number>`count(*)::int`,
      same: sql<number>`count(*) filter (where ${approvals.dedupeKey} = ${values.dedupeKey ?? ""})::int`,
    })
    .from(approvals)
    .where(
      and(
        eq(approvals.projectId, values.projectId),
        eq(approvals.agentId, values.agentId!),
        eq(approvals.status, "pending"),
        ne(approvals.kind, "plan"),
      ),
    );
  // Asking again for what is already waiting is always fine.
  if (Number(row?.same ?? 0) > 0) return;
  if (Number(row?.pending ?? 0) >= MAX_PENDING_PER_AGENT) {
    throw new DomainError(
      "rate_limited",
      `This agent already has ${MAX_PENDING_PER_AGENT} requests waiting ` +
        "for a person; wait for decisions before asking for more",
      { retryAfterSeconds: 60, pending: MAX_PENDING_PER_AGENT },
    );
  }
}

/** Denies pending approvals whose time ran out (status expired): in all
 * projects, one project or one approval; returns how many. Audited as the
 * system. The sweeper runs it, and every read of the queue first. */
export async function expireApprovals(
  db: Database,
  where: { projectId?: string; approvalId?: string } = {},
): Promise<number> {
  const at = now();

  return inTransaction(db, async (tx) => {
    const expired = await tx
      .update(approvals)
      .set({
        status: "expired",
        decidedAt: at,
        decidedBy: TIMEOUT_LABEL,
        decidedByLabel: "nobody (timed out)",
        comment: "No one decided in time, so it is denied",
      })
      .where(
        and(
          eq(approvals.status, "pending"),
          isNotNull(approvals.expiresAt),
          lte(approvals.expiresAt, at),
          where.projectId
            ? eq(approvals.projectId, where.projectId)
            : undefined,
          where.approvalId ? eq(approvals.id, where.approvalId) : undefined,
        ),
      )
      .returning({
        id: approvals.id,
        projectId: approvals.projectId,
        kind: approvals.kind,
        expiresAt: approvals.expiresAt,
      });
    if (expired.length > 0) {
      await tx.insert(auditLog).values(
        expired.map((row) => ({
          projectId: row.projectId,
          actorType: "system",
          actorId: null,
          actorLabel: TIMEOUT_LABEL,
          action: "approval.expire",
          targetType: "approval",
          targetId: row.id,
          details: { kind: row.kind, expiresAt: row.expiresAt },
          createdAt: at,
        })),
      );
    }

    return expired.length;
  });
}

/** One approval as it stands now, expired first if its time ran out. */
export async function currentApproval(
  db: Database,
  approvalId: string,
): Promise<ApprovalRow | null> {
  await expireApprovals(db, { approvalId });
  const [row] = await db
    .select()
    .from(approvals)
    .where(eq(approvals.id, approvalId))
    .limit(1);

  return row ?? null;
}

/** How often a waiting caller looks at the row again. Polling the row
 * works the same on PGlite and PostgreSQL (no LISTEN on PGlite). */
const POLL_MS = 250;

/** Waits until the approval is decided, expires or `waitMs` passes, and
 * returns it as it then stands. */
export async function waitForDecision(
  db: Database,
  approvalId: string,
  waitMs: number,
): Promise<ApprovalRow | null> {
  const until = Date.now() + waitMs;
  for (;;) {
    const row = await currentApproval(db, approvalId);
    if (!row || row.status !== "pending") return row;
    const left = until - Date.now();
    if (left <= 0) return row;
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(POLL_MS, left)),
    );
  }
}

/** Marks a decided approval as told to its agent. */
export async function markApprovalDelivered(
  db: Database,
  approvalId: string,
): Promise<void> {
  await db
    .update(approvals)
    .set({ deliveredAt: now() })
    .where(
      and(
        eq(approvals.id, approvalId),
        isNull(approvals.deliveredAt),
        ne(approvals.status, "pending"),
      ),
    );
}
