import { and, asc, eq, gt, inArray, isNull } from "drizzle-orm";
import { z } from "zod";
import { type Database, inTransaction } from "@/db/client";
import { agents, goals, reservations, taskLeases, tasks } from "@/db/schema";
import {
  exhaustedMessage,
  firstSpentBudget,
  loadBudgetRules,
  refusalDetails,
} from "@/server/guardrails/budget-spend";
import {
  agentActiveLimit,
  agentHeldCount,
  agentLimitMessage,
  concurrencyLockNames,
  goalLimitMessage,
  goalLimits,
} from "@/server/guardrails/concurrency";
import { assertProjectActive } from "@/server/guardrails/policy";
import { conflict, forbidden, notFound } from "@/server/errors";
import type { Actor } from "@/server/identity/actor";
import { recordAudit } from "@/server/identity/audit";
import { parseInput } from "@/server/input";
import { newId, now } from "@/server/runtime";
import { findProjectAgent, insertDirective } from "./directives";
import { describeHold, type Hold } from "./reservations";
import { firstOverlap, lockScopeRoots } from "./scopes";
import type { TaskStatus } from "./schemas";
import { orchestrationSettingsFor } from "./settings";
import {
  leaseHeldStatuses,
  transitionBy,
  transitionTask,
  type TransitionBy,
} from "./states";
import { loadTaskView, requireRoleIn, type TaskView } from "./views";

// Handing a task to a named agent. The task is leased to that agent at once
// (the same lease a claim would give), rather than marked for it to claim:
// leases are the one way a task is held, so the scope, fencing and expiry
// rules of claims apply unchanged, and a lease the agent never heartbeats
// lapses like any other. The agent hears of it through a high-priority
// directive in the notices of its next heartbeat or claim. An operator does
// this directly from the task page or the CLI, or by resolving an escalation.

type TaskRow = typeof tasks.$inferSelect;

/** What a hand-over needs from its caller's transaction. */
export interface AssignContext {
  tx: Database;
  actor: Actor;
  by: TransitionBy;
  at: Date;
  /** Recorded on the task's history. */
  reason: string;
  /** Passed on to the agent, if any. */
  note: string | null;
}

/** Ends whatever lease the task still has, with `endReason`. */
export async function endOpenLeases(
  tx: Database,
  taskId: string,
  at: Date,
  endReason: string,
) {
  await tx
    .update(taskLeases)
    .set({ endedAt: at, endReason })
    .where(and(eq(taskLeases.taskId, taskId), isNull(taskLeases.endedAt)));
}

export const released = {
  holderAgentId: null,
  leaseId: null,
  leaseExpiresAt: null,
};

/** Back to ready for any agent; a task already ready stays as it is. */
export async function returnToReady(
  ctx: Omit<AssignContext, "actor" | "note">,
  task: TaskRow,
  endReason = "revoked",
) {
  if (task.status === "ready") return;
  await transitionTask(ctx.tx, task, {
    from: task.status as TaskStatus,
    to: "ready",
    by: ctx.by,
    reason: ctx.reason,
    at: ctx.at,
    set: { ...released, completedAt: null },
  });
  await endOpenLeases(ctx.tx, task.id, ctx.at, endReason);
}

/**
 * The first live hold of an agent other than `except.agentId` (a task under
 * a live lease, or a reservation) whose roots overlap `roots`, or null.
 * Tasks in `except.taskIds` are passed over. The caller takes the roots'
 * advisory locks first (lockScopeRoots), as claims and reservations do, so
 * none of those can slip in between this check and the caller's change.
 */
export async function overlappingHold(
  tx: Database,
  projectId: string,
  roots: string[],
  at: Date,
  except: { agentId: string | null; taskIds: string[] },
): Promise<{ hold: Hold; root: string } | null> {
  const heldTasks = await tx
    .select({
      id: tasks.id,
      title: tasks.title,
      scope: tasks.scope,
      scopeRoots: tasks.scopeRoots,
      holderId: agents.id,
      holder: agents.name,
      expiresAt: tasks.leaseExpiresAt,
    })
    .from(tasks)
    .innerJoin(agents, eq(agents.id, tasks.holderAgentId))
    .where(
      and(
        eq(tasks.projectId, projectId),
        inArray(tasks.status, [...leaseHeldStatuses]),
        gt(tasks.leaseExpiresAt, at),
      ),
    )
    .orderBy(asc(tasks.leaseExpiresAt), asc(tasks.id));
  for (const row of heldTasks) {
    if (row.holderId === except.agentId) continue;
    if (except.taskIds.includes(row.id)) continue;
    const overlap = firstOverlap(roots, row.scopeRoots);
    if (!overlap) continue;

    return {
      root: overlap.ours,
      hold: {
        kind: "task",
        holder: row.holder,
        holderAgentId: row.holderId,
        taskId: row.id,
        taskTitle: row.title,
        globs: row.scope,
        mode: "exclusive",
        expiresAt: row.expiresAt ?? at,
      },
    };
  }
  const reserved = await tx
    .select({ row: reservations, holder: agents.name })
    .from(reservations)
    .innerJoin(agents, eq(agents.id, reservations.agentId))
    .where(
      and(
        eq(reservations.projectId, projectId),
        isNull(reservations.releasedAt),
        gt(reservations.expiresAt, at),
      ),
    )
    .orderBy(asc(reservations.expiresAt), asc(reservations.id));
  for (const { row, holder } of reserved) {
    if (row.agentId === except.agentId) continue;
    const overlap = firstOverlap(roots, row.roots);
    if (!overlap) continue;

    return {
      root: overlap.ours,
      hold: {
        kind: "reservation",
        holder,
        holderAgentId: row.agentId,
        reservationId: row.id,
        globs: row.globs,
        mode: row.mode as Hold["mode"],
        expiresAt: row.expiresAt,
      },
    };
  }

  return null;
}

/** The 409 for a change that would give two agents one file. */
export function holdConflict(
  what: string,
  found: { hold: Hold; root: string },
): Error {
  const { hold, root } = found;

  return conflict(
    `${what}: scope ${root || "the whole project"} overlaps ` +
      `${describeHold(hold)}`,
    {
      holder: hold.holder,
      kind: hold.kind,
      ...(hold.kind === "task"
        ? { taskId: hold.taskId, taskTitle: hold.taskTitle }
        : { reservationId: hold.reservationId }),
    },
  );
}

/** An operator's hand-over obeys the same limits as a claim by the agent:
 * its concurrency limit, the goal's, and every budget covering the agent
 * or the goal. Counted after the limits' locks are held. */
async function assertWithinLimits(
  ctx: AssignContext,
  task: TaskRow,
  agent: { id: string; name: string },
  agentLimited: boolean,
): Promise<void> {
  const heldNow =
    task.holderAgentId !== null &&
    (leaseHeldStatuses as readonly string[]).includes(task.status) &&
    task.leaseExpiresAt !== null &&
    task.leaseExpiresAt > ctx.at;
  if (agentLimited) {
    const limit = await agentActiveLimit(ctx.tx, agent.id);
    const held =
      (await agentHeldCount(ctx.tx, agent.id, ctx.at)) -
      (heldNow && task.holderAgentId === agent.id ? 1 : 0);
    if (limit && held >= limit.limit) {
      throw conflict(agentLimitMessage(limit, held), {
        agent: agent.name,
        limit: limit.limit,
        held,
      });
    }
  }
  for (const goal of await goalLimits(
    ctx.tx,
    task.projectId,
    [task.goalId],
    ctx.at,
  )) {
    const held = goal.held - (heldNow ? 1 : 0);
    if (held >= goal.limit) {
      throw conflict(goalLimitMessage(goal, held), {
        goal: goal.title,
        limit: goal.limit,
        held,
      });
    }
  }
  const subject = { agentId: agent.id, goalIds: [task.goalId] };
  const spent = await firstSpentBudget(
    ctx.tx,
    task.projectId,
    await loadBudgetRules(ctx.tx, task.projectId, subject),
    subject,
    ctx.at,
  );
  if (spent) throw forbidden(exhaustedMessage(spent), refusalDetails(spent));
}

/**
 * Hands `task` (its row locked by the caller) to a named agent: any current
 * lease ends with `endReason`, the task goes back to ready, then is claimed
 * for that agent with a lease of the project's default length and the next
 * fencing token, so the previous holder's writes are refused from now on.
 * Checks what a claim by that agent would: it is active, has the
 * capabilities the task needs, and no other agent holds any of its scope.
 * Returns the agent's name and the new lease.
 */
export async function assignTaskToAgent(
  ctx: AssignContext,
  task: TaskRow,
  agentRef: string,
  endReason = "revoked",
): Promise<{ agent: string; leaseId: string; expiresAt: Date }> {
  const agent = await findProjectAgent(ctx.tx, task.projectId, agentRef);
  if (agent.status !== "active") {
    throw conflict(`Agent ${agent.name} is ${agent.status}`, {
      agent: agent.name,
      status: agent.status,
    });
  }
  const missing = task.capabilities.filter(
    (tag) => !agent.capabilities.includes(tag),
  );
  if (missing.length > 0) {
    throw conflict(
      `Agent ${agent.name} lacks the capabilities ${missing.join(", ")} ` +
        `that task '${task.title}' needs`,
      { agent: agent.name, missing },
    );
  }
  // The roots' locks keep a concurrent claim or reservation from slipping
  // in between this check and the lease; the limits' locks do the same for
  // a claim that would count against the same concurrency limit.
  const [agentLimit, goalLimitRows] = await Promise.all([
    agentActiveLimit(ctx.tx, agent.id),
    goalLimits(ctx.tx, task.projectId, [task.goalId], ctx.at),
  ]);
  await lockScopeRoots(
    ctx.tx,
    task.projectId,
    task.scopeRoots,
    concurrencyLockNames(
      agent.id,
      agentLimit !== null,
      goalLimitRows.map((row) => row.goalId),
    ),
  );
  await assertWithinLimits(ctx, task, agent, agentLimit !== null);
  const held = await overlappingHold(
    ctx.tx,
    task.projectId,
    task.scopeRoots,
    ctx.at,
    { agentId: agent.id, taskIds: [task.id] },
  );
  if (held) {
    throw holdConflict(
      `Task '${task.title}' cannot go to agent ${agent.name}`,
      held,
    );
  }
  await returnToReady(ctx, task, endReason);
  const settings = await orchestrationSettingsFor(ctx.tx, task.projectId);
  const lease = {
    id: newId(),
    expiresAt: new Date(ctx.at.getTime() + settings.defaultLeaseSeconds * 1000),
  };
  await transitionTask(ctx.tx, task, {
    from: "ready",
    to: "claimed",
    by: ctx.by,
    reason: `${ctx.reason}: assigned to agent ${agent.name}`,
    at: ctx.at,
    set: {
      holderAgentId: agent.id,
      leaseId: lease.id,
      leaseExpiresAt: lease.expiresAt,
      // The row is locked, so these are current.
      leaseVersion: task.leaseVersion + 1,
      attempts: task.attempts + 1,
    },
  });
  await ctx.tx.insert(taskLeases).values({
    leaseId: lease.id,
    taskId: task.id,
    agentId: agent.id,
    claimedAt: ctx.at,
    expiresAt: lease.expiresAt,
    ttlSeconds: settings.defaultLeaseSeconds,
  });
  await insertDirective(ctx.tx, ctx.actor, {
    projectId: task.projectId,
    agentId: agent.id,
    priority: "high",
    body:
      `Task '${task.title}' (${task.id}) was assigned to you; you hold ` +
      `lease ${lease.id} on it (fencing token ${task.leaseVersion + 1}) ` +
      `until ${lease.expiresAt.toISOString()}. ` +
      "Heartbeat the task to start, or release it." +
      (ctx.note ? ` Note: ${ctx.note}` : ""),
  });

  return { agent: agent.name, leaseId: lease.id, expiresAt: lease.expiresAt };
}

export const reassignTaskInput = z
  .object({
    taskId: z.uuid("Must be a UUID"),
    /** The agent (name or id) of the task's project to hand it to. */
    agent: z.string().trim().min(1, "Name the agent to hand the task to"),
    reason: z.string().trim().max(2000).optional(),
  })
  .strict();

/** States an operator may hand over directly: waiting for a claim, or held
 * by another agent. A blocked task is settled through its escalation. */
const reassignable: readonly TaskStatus[] = ["ready", "claimed", "in_progress"];

/**
 * An operator hands a task to a named agent (operator role). A held task's
 * current lease ends ("reassigned") and its holder is told by a directive;
 * its next heartbeat or report is refused with 409 because the fencing
 * token moved on. Refused while the project is paused (the kill switch) or
 * the goal is not active, since the agent could not work on it. Audited as
 * task.reassign.
 */
export async function reassignTask(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<TaskView> {
  const values = parseInput(reassignTaskInput, input);
  const before = await loadTaskView(db, values.taskId);
  await requireRoleIn(db, actor, before.projectId, "operator", () =>
    notFound("Task", values.taskId),
  );
  await assertProjectActive(db, before.projectId);
  const at = now();
  await inTransaction(db, async (tx) => {
    const [task] = await tx
      .select()
      .from(tasks)
      .where(eq(tasks.id, before.id))
      .for("update");
    if (!task) throw notFound("Task", before.id);
    const status = task.status as TaskStatus;
    if (!reassignable.includes(status)) {
      throw conflict(
        `Task '${task.title}' is ${status}; only a ready or held task can ` +
          "be reassigned" +
          (status === "blocked" ? " (resolve its escalation instead)" : ""),
        { status },
      );
    }
    const [goal] = await tx
      .select({ title: goals.title, status: goals.status })
      .from(goals)
      .where(eq(goals.id, task.goalId))
      .limit(1);
    if (goal && goal.status !== "active") {
      throw conflict(
        `Goal '${goal.title}' is ${goal.status}; its tasks cannot be ` +
          "assigned until it is active",
        { goalStatus: goal.status },
      );
    }
    const live =
      leaseHeldStatuses.includes(status) &&
      task.holderAgentId !== null &&
      task.leaseExpiresAt !== null &&
      task.leaseExpiresAt > at;
    const target = await findProjectAgent(tx, task.projectId, values.agent);
    if (live && task.holderAgentId === target.id) {
      throw conflict(
        `Agent ${target.name} already holds task '${task.title}'`,
        {
          agent: target.name,
        },
      );
    }
    const previous = task.holderAgentId
      ? await findProjectAgent(tx, task.projectId, task.holderAgentId)
      : null;
    const ctx: AssignContext = {
      tx,
      actor,
      by: transitionBy(actor),
      at,
      reason: values.reason
        ? `reassigned by an operator: ${values.reason}`
        : "reassigned by an operator",
      note: values.reason ?? null,
    };
    const assigned = await assignTaskToAgent(
      ctx,
      task,
      target.id,
      "reassigned",
    );
    if (live && previous) {
      await insertDirective(tx, actor, {
        projectId: task.projectId,
        agentId: previous.id,
        priority: "high",
        body:
          `Task '${task.title}' (${task.id}) was reassigned to agent ` +
          `${assigned.agent}; your lease on it has ended. Stop work on it.` +
          (values.reason ? ` Reason: ${values.reason}` : ""),
      });
    }
    await recordAudit(tx, actor, {
      projectId: task.projectId,
      action: "task.reassign",
      targetType: "task",
      targetId: task.id,
      details: {
        title: task.title,
        previousStatus: status,
        previousHolder: live ? (previous?.name ?? null) : null,
        agent: assigned.agent,
        leaseId: assigned.leaseId,
        reason: values.reason ?? null,
      },
    });
  });

  return loadTaskView(db, before.id);
}
