import { and, eq, isNull, sql } from "drizzle-orm";
import { type Database, inTransaction, queryRows } from "@/db/client";
import { auditLog, projects, taskLeases } from "@/db/schema";
import { notify } from "@/server/guardrails/notify";
import { expireApprovals } from "@/server/guardrails/approval-store";
import { settleApprovalNotifications } from "@/server/guardrails/notify";
import { sweepBudgetAlerts } from "@/server/guardrails/budget-alerts";
import { now } from "@/server/runtime";
import {
  type PeriodicHandle,
  startOncePerProcess,
  startPeriodic,
} from "@/server/periodic";
import { raiseEscalationOnce } from "./escalations";
import type { TaskStatus } from "./schemas";
import { maxAttemptsSql } from "./settings";
import { lapsableStatuses, systemBy, transitionTask } from "./states";

// The lease sweeper. A held task whose lease ran out goes back to ready (by
// the system, "lease expired"), or to failed once it has used up its
// project's maximum attempts, with an audit entry for the operators. It runs
// in every app instance: rows are picked FOR UPDATE SKIP LOCKED, so two
// sweepers (or a sweeper and a claim's lazy reclaim) never move the same
// task twice; a row another one already moved no longer matches.

export interface SweepResult {
  returned: number;
  failed: number;
}

const SWEEP_BATCH = 200;
const sweeperBy = systemBy("system:lease-sweeper");
const heldStatuses = lapsableStatuses();

interface Expired {
  id: string;
  project_id: string;
  title: string;
  status: TaskStatus;
  lease_id: string | null;
  lease_expires_at: string | Date;
  attempts: number;
  max_attempts: number;
  holder_agent_id: string | null;
}

/** One pass: settles up to a batch of expired leases in one transaction. */
export async function sweepExpiredLeases(db: Database): Promise<SweepResult> {
  const at = now();
  const statuses = sql.join(
    heldStatuses.map((status) => sql`${status}`),
    sql`, `,
  );

  return inTransaction(db, async (tx) => {
    const expired = await queryRows<Expired>(
      tx,
      sql`
        select t.id, t.project_id, t.title, t.status, t.lease_id,
          t.lease_expires_at, t.attempts, t.holder_agent_id,
          ${maxAttemptsSql(sql`t.project_id`)} as max_attempts
        from tasks t
        where t.status in (${statuses})
          and t.lease_expires_at <= ${at.toISOString()}::timestamptz
        order by t.lease_expires_at asc
        limit ${SWEEP_BATCH}
        for update of t skip locked
      `,
    );
    const result: SweepResult = { returned: 0, failed: 0 };
    for (const task of expired) {
      const expiredAt = new Date(task.lease_expires_at);
      const exhausted = Number(task.attempts) >= Number(task.max_attempts);
      await transitionTask(tx, task, {
        from: task.status,
        to: exhausted ? "failed" : "ready",
        by: sweeperBy,
        reason: exhausted
          ? `lease expired; ${task.attempts} of ${task.max_attempts} ` +
            "attempts used"
          : "lease expired",
        at,
        set: {
          holderAgentId: null,
          leaseId: null,
          leaseExpiresAt: null,
          ...(exhausted
            ? { completedAt: at, result: "lease expired too often" }
            : {}),
        },
      });
      if (task.lease_id) {
        await tx
          .update(taskLeases)
          .set({ endedAt: expiredAt, endReason: "expired" })
          .where(
            and(
              eq(taskLeases.leaseId, task.lease_id),
              isNull(taskLeases.endedAt),
            ),
          );
      }
      await escalateLapse(tx, task, exhausted);
      if (exhausted) {
        // The audit log is where operators look for what needs them.
        await tx.insert(auditLog).values({
          projectId: task.project_id,
          actorType: "system",
          actorId: null,
          actorLabel: sweeperBy.label,
          action: "task.fail",
          targetType: "task",
          targetId: task.id,
          details: {
            title: task.title,
            reason: "lease expired",
            attempts: Number(task.attempts),
            maxAttempts: Number(task.max_attempts),
            lastHolderAgentId: task.holder_agent_id,
          },
          createdAt: at,
        });
        result.failed++;
      } else {
        result.returned++;
      }
    }

    return result;
  });
}

/** Leases of a task that lapsed before this one sends it to operators. */
const LAPSES_BEFORE_ESCALATION = 2;

/**
 * Tells operators about a task the sweeper gave up on (max_attempts), or
 * one whose lease has now lapsed twice or more (lease_expired), once per
 * task and kind while the escalation is open. A failed task gets only the
 * max_attempts escalation: it says all the lapsed one would.
 */
async function escalateLapse(tx: Database, task: Expired, exhausted: boolean) {
  const raisedBy = {
    type: "system" as const,
    id: null,
    label: sweeperBy.label,
  };
  if (exhausted) {
    const reason =
      `Task '${task.title}' failed: its lease expired with ` +
      `${task.attempts} of ${task.max_attempts} attempts used`;
    const raised = await raiseEscalationOnce(tx, {
      projectId: task.project_id,
      kind: "max_attempts",
      taskId: task.id,
      reason,
      raisedBy,
    });
    if (raised)
      await notifyEscalated(tx, task, raised.id, "task_failing", reason);

    return;
  }
  // Lapses found by a claim's lazy reclaim are recorded as expired too.
  const [lapsed] = await tx
    .select({ count: sql<number>`count(*)` })
    .from(taskLeases)
    .where(
      and(eq(taskLeases.taskId, task.id), eq(taskLeases.endReason, "expired")),
    );
  const lapses = Number(lapsed?.count ?? 0);
  if (lapses < LAPSES_BEFORE_ESCALATION) return;
  const reason =
    `The lease on task '${task.title}' has expired ${lapses} times; ` +
    "its agents may be stuck or the lease too short";
  const raised = await raiseEscalationOnce(tx, {
    projectId: task.project_id,
    kind: "lease_expired",
    taskId: task.id,
    reason,
    raisedBy,
  });
  if (raised) {
    await notifyEscalated(tx, task, raised.id, "lease_expiring", reason);
  }
}

/** The notification (inbox and webhooks) for an escalation the sweeper
 * raised; one per escalation. */
async function notifyEscalated(
  tx: Database,
  task: Expired,
  escalationId: string,
  kind: "task_failing" | "lease_expiring",
  reason: string,
) {
  const [project] = await tx
    .select({ slug: projects.slug })
    .from(projects)
    .where(eq(projects.id, task.project_id));
  await notify(tx, {
    projectId: task.project_id,
    kind,
    severity: kind === "task_failing" ? "critical" : "warning",
    title:
      kind === "task_failing"
        ? `Task '${task.title}' failed after ${task.attempts} attempts`
        : `The lease on task '${task.title}' keeps expiring`,
    body: reason,
    link: project ? `/projects/${project.slug}/tasks/${task.id}` : undefined,
    details: {
      taskId: task.id,
      escalationId,
      attempts: Number(task.attempts),
      maxAttempts: Number(task.max_attempts),
    },
    dedupeKey: `escalation:${escalationId}`,
  });
}

export type SweeperHandle = PeriodicHandle;

/**
 * Sweeps every `intervalMs` until stopped. `database` is asked on each tick,
 * so a database that comes up late is swept once it is there; a failed
 * pass is reported and the next tick tries again.
 */
export function startLeaseSweeper(options: {
  database: () => Promise<Database>;
  intervalMs?: number;
  onError?: (error: unknown) => void;
}): SweeperHandle {
  return startPeriodic({
    database: options.database,
    intervalMs: options.intervalMs ?? 5_000,
    onError: options.onError,
    async pass(db, stopped) {
      // Drain: a full batch means more may be waiting.
      for (;;) {
        const swept = await sweepExpiredLeases(db);
        if (stopped() || swept.returned + swept.failed < SWEEP_BATCH) break;
      }
      // Spend reported since the last pass may have crossed a budget's
      // alert threshold or its limit.
      if (!stopped()) await sweepBudgetAlerts(db);
      // Approvals nobody decided in time are denied (expired).
      await expireApprovals(db);
      // Their "waits for approval" notifications are then no news.
      await settleApprovalNotifications(db);
    },
  });
}

/** The app's own sweeper on the process database, started once per
 * process however often start-up code runs (dev reloads modules). */
export function startAppLeaseSweeper(options: {
  database: () => Promise<Database>;
  onError: (error: unknown) => void;
  intervalMs?: number;
}): SweeperHandle {
  return startOncePerProcess("flotilla.leaseSweeper", () =>
    startLeaseSweeper(options),
  );
}
