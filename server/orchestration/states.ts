import { and, eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { escalations, tasks, taskTransitions } from "@/db/schema";
import { conflict } from "@/server/errors";
import { actorId, actorLabel, type Actor } from "@/server/identity/actor";
import type { TaskStatus } from "./schemas";

// The task state machine. Every status change of a task is checked against
// this one table, and recorded in task_transitions in the same transaction.
// The README's "Task states" section documents the same table.

/** Who moves a task: the agent holding its lease, an operator (a person or
 * the local CLI), or the system itself (lease sweeper, dependencies). */
export type TransitionActorType = "agent" | "operator" | "system";

export const transitionActorTypes: readonly TransitionActorType[] = [
  "agent",
  "operator",
  "system",
];

type Table = Partial<
  Record<TaskStatus, Partial<Record<TaskStatus, TransitionActorType[]>>>
>;

export const taskTransitionTable: Table = {
  // draft: not claimable yet; waiting for the tasks it depends on.
  draft: {
    ready: ["system", "operator"],
    cancelled: ["operator"],
  },
  ready: {
    // An operator claims only on an agent's behalf, when resolving an
    // escalation by reassigning the task to a named agent
    // (server/orchestration/escalations.ts); claims by agents pick tasks.
    claimed: ["agent", "operator"],
    draft: ["system"],
    blocked: ["operator"],
    cancelled: ["operator"],
  },
  claimed: {
    in_progress: ["agent"],
    // The holder reports a conflict before its first heartbeat (POST
    // /tasks/{id}/block), as it may once in progress.
    blocked: ["agent"],
    done: ["agent"],
    failed: ["agent", "system"],
    ready: ["agent", "operator", "system"],
    cancelled: ["operator"],
  },
  in_progress: {
    in_review: ["agent"],
    done: ["agent"],
    failed: ["agent", "system"],
    blocked: ["agent"],
    ready: ["agent", "operator", "system"],
    cancelled: ["operator"],
  },
  in_review: {
    done: ["operator"],
    ready: ["operator"],
    cancelled: ["operator"],
  },
  blocked: {
    ready: ["operator"],
    cancelled: ["operator"],
  },
  // done, failed and cancelled are final.
};

/** The states in which an agent holds the task under a lease. */
export const leaseHeldStatuses: readonly TaskStatus[] = [
  "claimed",
  "in_progress",
];

/** Held states the system may return to ready when the lease lapses. */
export function lapsableStatuses(): TaskStatus[] {
  return sourcesOf("ready", "system").filter((s) =>
    leaseHeldStatuses.includes(s),
  );
}

export function allowedActors(
  from: TaskStatus,
  to: TaskStatus,
): TransitionActorType[] {
  return taskTransitionTable[from]?.[to] ?? [];
}

export function isAllowed(
  from: TaskStatus,
  to: TaskStatus,
  by: TransitionActorType,
): boolean {
  return allowedActors(from, to).includes(by);
}

/** The states `by` may move a task out of into `to`, e.g. what a claim
 * may pick. */
export function sourcesOf(
  to: TaskStatus,
  by: TransitionActorType,
): TaskStatus[] {
  return (Object.keys(taskTransitionTable) as TaskStatus[]).filter((from) =>
    isAllowed(from, to, by),
  );
}

const byWords: Record<TransitionActorType, string> = {
  agent: "an agent",
  operator: "an operator",
  system: "the system",
};

/** Throws a 409 naming the task's current state unless `by` may move it
 * from `from` to `to`. */
export function assertTransition(
  task: { title: string },
  from: TaskStatus,
  to: TaskStatus,
  by: TransitionActorType,
): void {
  if (isAllowed(from, to, by)) return;
  const allowed = allowedActors(from, to);
  const why =
    allowed.length === 0
      ? `it cannot move from ${from} to ${to}`
      : `only ${allowed.map((a) => byWords[a]).join(" or ")} may move it ` +
        `from ${from} to ${to}`;
  throw conflict(`Task '${task.title}' is ${from}: ${why}`, {
    status: from,
    to,
  });
}

export interface TransitionBy {
  type: TransitionActorType;
  id: string | null;
  label: string;
}

/** Agents act as agents; people and the CLI act as operators. */
export function transitionBy(actor: Actor): TransitionBy {
  return {
    type: actor.kind === "agent" ? "agent" : "operator",
    id: actorId(actor),
    label: actorLabel(actor),
  };
}

export const systemBy = (label: string): TransitionBy => ({
  type: "system",
  id: null,
  label,
});

export interface TransitionRecord {
  taskId: string;
  from: TaskStatus | null;
  to: TaskStatus;
  by: TransitionBy;
  reason?: string | null;
  at: Date;
}

/** Appends one history row; call it in the transaction of the change. */
export async function recordTransition(
  tx: Database,
  record: TransitionRecord,
): Promise<void> {
  await tx.insert(taskTransitions).values({
    taskId: record.taskId,
    fromStatus: record.from,
    toStatus: record.to,
    actorType: record.by.type,
    actorId: record.by.id,
    actorLabel: record.by.label,
    reason: record.reason ?? null,
    at: record.at,
  });
}

/**
 * Moves a task from `from` to `to` with other column changes, in `tx`:
 * checks the table, updates the row only if it is still in `from` (so a
 * concurrent change is a 409, not a lost update) and records the
 * transition. The caller has usually locked the row already.
 */
export async function transitionTask(
  tx: Database,
  task: { id: string; title: string },
  change: {
    from: TaskStatus;
    to: TaskStatus;
    by: TransitionBy;
    reason?: string | null;
    at: Date;
    set?: Partial<typeof tasks.$inferInsert>;
    /** Also require this lease version, for changes read before the lock. */
    leaseVersion?: number;
  },
): Promise<void> {
  assertTransition(task, change.from, change.to, change.by.type);
  const changed = await tx
    .update(tasks)
    .set({ ...change.set, status: change.to, updatedAt: change.at })
    .where(
      and(
        eq(tasks.id, task.id),
        eq(tasks.status, change.from),
        change.leaseVersion === undefined
          ? undefined
          : eq(tasks.leaseVersion, change.leaseVersion),
      ),
    )
    .returning({ id: tasks.id });
  if (changed.length === 0) {
    throw conflict(
      `Task '${task.title}' changed while you acted on it; look again`,
    );
  }
  await recordTransition(tx, {
    taskId: task.id,
    from: change.from,
    to: change.to,
    by: change.by,
    reason: change.reason,
    at: change.at,
  });
  // A task that is done or cancelled leaves its open escalations nothing to
  // settle: they are dismissed, saying why. A failed task is what an
  // operator must look at, so its escalations stay open. An escalation
  // being resolved in this transaction is written over by its resolution.
  if (change.to === "done" || change.to === "cancelled") {
    await tx
      .update(escalations)
      .set({
        status: "resolved",
        resolution: "dismissed",
        resolutionNote: `task was ${change.to}`,
        resolvedByLabel: change.by.label,
        resolvedAt: change.at,
      })
      .where(
        and(eq(escalations.taskId, task.id), eq(escalations.status, "open")),
      );
  }
}
