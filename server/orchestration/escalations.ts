import {
  and,
  asc,
  desc,
  eq,
  inArray,
  isNull,
  sql,
  type SQL,
} from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { z } from "zod";
import { type Database, inTransaction } from "@/db/client";
import {
  escalationRecipients,
  escalations,
  projectMembers,
  taskLeases,
  tasks,
  user,
} from "@/db/schema";
import { conflict, forbidden, invalidInput, notFound } from "@/server/errors";
import { requireProjectRole } from "@/server/identity/access";
import { actorId, actorLabel, type Actor } from "@/server/identity/actor";
import { recordAudit } from "@/server/identity/audit";
import { parseInput } from "@/server/input";
import { logger } from "@/server/log";
import { newId, now } from "@/server/runtime";
import { lockHeldTask } from "./leases";
import {
  assignTaskToAgent,
  endOpenLeases,
  holdConflict,
  overlappingHold,
  released,
  returnToReady,
} from "./reassign";
import { lockScopeRoots, scopeRoots } from "./scopes";
import type { TaskStatus } from "./schemas";
import {
  leaseHeldStatuses,
  transitionBy,
  transitionTask,
  type TransitionBy,
} from "./states";
import { loadTaskView, type TaskView } from "./views";

// Escalations: what an operator must settle. An agent blocks its task on a
// conflict; the lease sweeper reports a task that used up its attempts or
// keeps losing its lease. Each escalation goes to recipients chosen when it
// is raised and stays open until an operator resolves it, which is audited.

export const escalationKinds = [
  "blocked",
  "scope_conflict",
  "max_attempts",
  "lease_expired",
] as const;
export type EscalationKind = (typeof escalationKinds)[number];

/** What an operator does to settle an escalation, and the resolution word
 * stored for it. */
export const resolutionActions = {
  reassign: "reassigned",
  merge_scopes: "scopes_merged",
  cancel: "cancelled",
  unblock: "unblocked",
  dismiss: "dismissed",
} as const;
export type ResolutionAction = keyof typeof resolutionActions;
export type Resolution = (typeof resolutionActions)[ResolutionAction];

type AgentActor = Extract<Actor, { kind: "agent" }>;
type TaskRow = typeof tasks.$inferSelect;

const id = z.uuid("Must be a UUID");

export const blockTaskInput = z
  .object({
    taskId: id,
    leaseId: id.optional(),
    fencingToken: z.number().int().min(0).optional(),
    reason: z
      .string()
      .trim()
      .min(1, "Say what blocks the task")
      .max(20_000, "At most 20,000 characters"),
    /** Another task of the project whose scope is in the way. */
    conflictTaskId: id.optional(),
    /** The path the conflict is about, e.g. "db/schema/identity.ts". */
    path: z.string().trim().min(1).max(1000).optional(),
  })
  .strict();

export const listEscalationsInput = z.object({
  project: z.string().min(1),
  status: z.enum(["open", "resolved", "all"]).default("open"),
  limit: z.number().int().min(1).max(500).default(200),
});

export const escalationCountInput = z.object({ project: z.string().min(1) });

export const resolveEscalationInput = z
  .object({
    escalationId: id,
    action: z.enum(
      Object.keys(resolutionActions) as [
        ResolutionAction,
        ...ResolutionAction[],
      ],
    ),
    /** For reassign: the agent (id or name) to hand the task to; without
     * one the task goes back to ready for any agent. */
    agent: z.string().trim().min(1).optional(),
    note: z.string().trim().max(5000).optional(),
  })
  .strict();

export interface RaisedBy {
  type: "agent" | "system" | "user" | "cli";
  id: string | null;
  label: string;
}

export interface NewEscalation {
  projectId: string;
  kind: EscalationKind;
  taskId: string | null;
  conflictTaskId?: string | null;
  path?: string | null;
  reason: string;
  raisedBy: RaisedBy;
}

/**
 * Who hears of an escalation: the project's admins and operators; failing
 * those the instance admins; failing those every user. An instance without
 * any user has nobody to tell, and the escalation waits in the inbox.
 */
export async function escalationRecipientIds(
  tx: Database,
  projectId: string,
): Promise<string[]> {
  const members = await tx
    .select({ id: projectMembers.userId })
    .from(projectMembers)
    .where(
      and(
        eq(projectMembers.projectId, projectId),
        inArray(projectMembers.role, ["admin", "operator"]),
      ),
    )
    .orderBy(asc(projectMembers.userId));
  if (members.length > 0) return members.map((m) => m.id);
  const admins = await tx
    .select({ id: user.id })
    .from(user)
    .where(eq(user.role, "admin"))
    .orderBy(asc(user.id));
  if (admins.length > 0) return admins.map((a) => a.id);
  const everyone = await tx
    .select({ id: user.id })
    .from(user)
    .orderBy(asc(user.id));

  return everyone.map((u) => u.id);
}

/** Records an escalation and its recipients in `tx`. */
export async function raiseEscalation(
  tx: Database,
  values: NewEscalation,
): Promise<{ id: string; recipients: string[] }> {
  const escalationId = newId();
  await tx.insert(escalations).values({
    id: escalationId,
    projectId: values.projectId,
    kind: values.kind,
    status: "open",
    taskId: values.taskId,
    conflictTaskId: values.conflictTaskId ?? null,
    path: values.path ?? null,
    reason: values.reason,
    raisedByType: values.raisedBy.type,
    raisedById: values.raisedBy.id,
    raisedByLabel: values.raisedBy.label,
    createdAt: now(),
  });
  const recipients = await escalationRecipientIds(tx, values.projectId);
  if (recipients.length > 0) {
    await tx
      .insert(escalationRecipients)
      .values(recipients.map((userId) => ({ escalationId, userId })));
  } else {
    logger.warn(
      { escalationId, projectId: values.projectId },
      "escalation raised with no user to send it to",
    );
  }

  return { id: escalationId, recipients };
}

/** Raises an escalation unless the task already has an open one of the
 * same kind; returns null when it did not. The sweeper calls this on every
 * pass, so a task that keeps lapsing is reported once, not each time. */
export async function raiseEscalationOnce(
  tx: Database,
  values: NewEscalation & { taskId: string },
): Promise<{ id: string; recipients: string[] } | null> {
  const [open] = await tx
    .select({ id: escalations.id })
    .from(escalations)
    .where(
      and(
        eq(escalations.taskId, values.taskId),
        eq(escalations.kind, values.kind),
        eq(escalations.status, "open"),
      ),
    )
    .limit(1);
  if (open) return null;

  return raiseEscalation(tx, values);
}

async function lockTask(tx: Database, taskId: string) {
  const [row] = await tx
    .select()
    .from(tasks)
    .where(eq(tasks.id, taskId))
    .for("update");

  return row ?? null;
}

export interface BlockResult {
  task: TaskView;
  escalation: { id: string; kind: EscalationKind; recipients: number };
}

/**
 * The holder blocks its task: the task moves to blocked, the lease ends
 * (blocked is not a held state, so nobody holds a blocked task) and an
 * escalation is raised: scope_conflict when a task or path is named,
 * blocked otherwise. An operator's resolution decides what happens next.
 */
export async function blockTask(
  db: Database,
  actor: AgentActor,
  input: unknown,
): Promise<BlockResult> {
  const values = parseInput(blockTaskInput, input);
  const at = now();
  const kind: EscalationKind =
    values.conflictTaskId || values.path ? "scope_conflict" : "blocked";
  const escalation = await inTransaction(db, async (tx) => {
    const { row } = await lockHeldTask(tx, actor, values, at);
    if (values.conflictTaskId) {
      if (values.conflictTaskId === row.id) {
        throw invalidInput("A task cannot conflict with itself", [
          { path: "conflictTaskId", message: "Name another task" },
        ]);
      }
      const [other] = await tx
        .select({ projectId: tasks.projectId })
        .from(tasks)
        .where(eq(tasks.id, values.conflictTaskId));
      if (!other || other.projectId !== actor.projectId) {
        throw invalidInput(`Task ${values.conflictTaskId} was not found`, [
          { path: "conflictTaskId", message: "No such task in this project" },
        ]);
      }
    }
    await transitionTask(tx, row, {
      from: row.status as TaskStatus,
      to: "blocked",
      by: transitionBy(actor),
      reason: values.reason,
      at,
      set: { holderAgentId: null, leaseId: null, leaseExpiresAt: null },
    });
    await tx
      .update(taskLeases)
      .set({ endedAt: at, endReason: "blocked" })
      .where(and(eq(taskLeases.taskId, row.id), isNull(taskLeases.endedAt)));
    const raised = await raiseEscalation(tx, {
      projectId: row.projectId,
      kind,
      taskId: row.id,
      conflictTaskId: values.conflictTaskId ?? null,
      path: values.path ?? null,
      reason: values.reason,
      raisedBy: { type: "agent", id: actor.agentId, label: actorLabel(actor) },
    });

    return { id: raised.id, kind, recipients: raised.recipients.length };
  });

  return { task: await loadTaskView(db, values.taskId), escalation };
}

export interface EscalationView {
  id: string;
  projectId: string;
  kind: EscalationKind;
  status: "open" | "resolved";
  task: { id: string; title: string; status: TaskStatus } | null;
  conflictTask: { id: string; title: string; status: TaskStatus } | null;
  path: string | null;
  reason: string;
  raisedBy: { type: string; label: string };
  createdAt: Date;
  recipients: { userId: string; email: string | null; readAt: Date | null }[];
  resolution: Resolution | null;
  resolutionNote: string | null;
  resolvedBy: string | null;
  resolvedAt: Date | null;
}

const conflictTasks = alias(tasks, "conflict_tasks");

/** The inbox: a project's escalations, open ones oldest first (the longest
 * waiting on top), resolved ones newest first. */
export async function listEscalations(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<EscalationView[]> {
  const values = parseInput(listEscalationsInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );

  return selectEscalationViews(
    db,
    and(
      eq(escalations.projectId, project.id),
      values.status === "all"
        ? undefined
        : eq(escalations.status, values.status),
    ),
    values.status === "open" ? "oldest" : "newest",
    values.limit,
  );
}

async function selectEscalationViews(
  db: Database,
  where: SQL | undefined,
  order: "oldest" | "newest",
  limit: number,
): Promise<EscalationView[]> {
  const rows = await db
    .select({
      escalation: escalations,
      task: { id: tasks.id, title: tasks.title, status: tasks.status },
      conflictTask: {
        id: conflictTasks.id,
        title: conflictTasks.title,
        status: conflictTasks.status,
      },
    })
    .from(escalations)
    .leftJoin(tasks, eq(tasks.id, escalations.taskId))
    .leftJoin(conflictTasks, eq(conflictTasks.id, escalations.conflictTaskId))
    .where(where)
    .orderBy(
      order === "oldest"
        ? asc(escalations.createdAt)
        : desc(escalations.createdAt),
      asc(escalations.id),
    )
    .limit(limit);
  const ids = rows.map((row) => row.escalation.id);
  const recipients =
    ids.length === 0
      ? []
      : await db
          .select({
            escalationId: escalationRecipients.escalationId,
            userId: escalationRecipients.userId,
            email: user.email,
            readAt: escalationRecipients.readAt,
          })
          .from(escalationRecipients)
          .leftJoin(user, eq(user.id, escalationRecipients.userId))
          .where(inArray(escalationRecipients.escalationId, ids))
          .orderBy(asc(user.email));

  return rows.map(({ escalation: e, task, conflictTask }) => ({
    id: e.id,
    projectId: e.projectId,
    kind: e.kind as EscalationKind,
    status: e.status as "open" | "resolved",
    task: task ? { ...task, status: task.status as TaskStatus } : null,
    conflictTask: conflictTask
      ? { ...conflictTask, status: conflictTask.status as TaskStatus }
      : null,
    path: e.path,
    reason: e.reason,
    raisedBy: { type: e.raisedByType, label: e.raisedByLabel },
    createdAt: e.createdAt,
    recipients: recipients
      .filter((r) => r.escalationId === e.id)
      .map(({ userId, email, readAt }) => ({ userId, email, readAt })),
    resolution: e.resolution as Resolution | null,
    resolutionNote: e.resolutionNote,
    resolvedBy: e.resolvedByLabel,
    resolvedAt: e.resolvedAt,
  }));
}

/** How many escalations are open, for the navigation badge. */
export async function countOpenEscalations(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<{ open: number }> {
  const values = parseInput(escalationCountInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );
  const [row] = await db
    .select({ open: sql<number>`count(*)` })
    .from(escalations)
    .where(
      and(
        eq(escalations.projectId, project.id),
        eq(escalations.status, "open"),
      ),
    );

  return { open: Number(row?.open ?? 0) };
}

interface ResolutionContext {
  tx: Database;
  actor: Actor;
  by: TransitionBy;
  at: Date;
  reason: string;
  note: string | null;
  escalation: typeof escalations.$inferSelect;
}

/**
 * Folds the blocked task into the task it conflicts with: the conflicting
 * task's scope gains the blocked task's scope (and the disputed path), so
 * one agent owns all of those files, and the blocked task is cancelled.
 */
async function mergeScopes(ctx: ResolutionContext, task: TaskRow) {
  const otherId = ctx.escalation.conflictTaskId;
  if (!otherId) {
    throw conflict(
      "This escalation names no conflicting task to merge scopes into",
    );
  }
  const other = await lockTask(ctx.tx, otherId);
  if (!other) throw notFound("Task", otherId);
  const final = ["done", "failed", "cancelled"];
  if (final.includes(other.status)) {
    throw conflict(
      `Task '${other.title}' is ${other.status}; its scope can no longer ` +
        "take on other work",
      { status: other.status },
    );
  }
  const merged = [
    ...new Set([
      ...other.scope,
      ...task.scope,
      ...(ctx.escalation.path ? [ctx.escalation.path] : []),
    ]),
  ];
  const roots = scopeRoots(merged);
  // A task held under a live lease takes on the new files at once; another
  // agent's hold on any of them would make two holders of one file.
  const holder =
    leaseHeldStatuses.includes(other.status as TaskStatus) &&
    other.holderAgentId &&
    other.leaseExpiresAt &&
    other.leaseExpiresAt > ctx.at
      ? other.holderAgentId
      : null;
  if (holder) {
    await lockScopeRoots(ctx.tx, other.projectId, roots);
    const held = await overlappingHold(ctx.tx, other.projectId, roots, ctx.at, {
      agentId: holder,
      taskIds: [other.id, task.id],
    });
    if (held) {
      throw holdConflict(
        `The scope of '${other.title}' cannot grow while it is held`,
        held,
      );
    }
  }
  await ctx.tx
    .update(tasks)
    .set({ scope: merged, scopeRoots: roots, updatedAt: ctx.at })
    .where(eq(tasks.id, other.id));
  await cancel(ctx, task, `${ctx.reason}: scope merged into '${other.title}'`);

  return { mergedInto: other.id, scope: merged };
}

async function cancel(ctx: ResolutionContext, task: TaskRow, reason: string) {
  await transitionTask(ctx.tx, task, {
    from: task.status as TaskStatus,
    to: "cancelled",
    by: ctx.by,
    reason,
    at: ctx.at,
    set: { ...released, completedAt: ctx.at },
  });
  await endOpenLeases(ctx.tx, task.id, ctx.at, "cancelled");
}

/**
 * An operator settles an open escalation. The task moves through the state
 * machine, so an action the task's state does not allow (unblocking a task
 * that is not blocked, anything but dismiss on a failed task) is a 409
 * naming the state. Records the resolution, who and when, and audits it.
 */
export async function resolveEscalation(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<EscalationView> {
  const values = parseInput(resolveEscalationInput, input);
  if (actor.kind === "agent") {
    throw forbidden("Only an operator may resolve an escalation");
  }
  const [found] = await db
    .select()
    .from(escalations)
    .where(eq(escalations.id, values.escalationId))
    .limit(1);
  if (!found) throw notFound("Escalation", values.escalationId);
  const { project } = await requireProjectRole(
    db,
    actor,
    found.projectId,
    "operator",
  );
  if (values.agent && values.action !== "reassign") {
    throw invalidInput("Only a reassignment names an agent", [
      { path: "agent", message: "Leave empty unless reassigning" },
    ]);
  }
  const resolution = resolutionActions[values.action];
  const at = now();
  await inTransaction(db, async (tx) => {
    // The task's row is locked before the escalation's, in the order a
    // task settled elsewhere takes them (it dismisses the task's open
    // escalations), so the two never wait on each other in a cycle.
    const task =
      values.action === "dismiss" || !found.taskId
        ? null
        : await lockTask(tx, found.taskId);
    const [escalation] = await tx
      .select()
      .from(escalations)
      .where(eq(escalations.id, found.id))
      .for("update");
    if (!escalation) throw notFound("Escalation", found.id);
    if (escalation.status !== "open") {
      throw conflict(
        `This escalation was already resolved (${escalation.resolution}) ` +
          `by ${escalation.resolvedByLabel}`,
        { resolution: escalation.resolution },
      );
    }
    const ctx: ResolutionContext = {
      tx,
      actor,
      by: transitionBy(actor),
      at,
      reason:
        `escalation ${resolution}` + (values.note ? `: ${values.note}` : ""),
      note: values.note || null,
      escalation,
    };
    if (values.action !== "dismiss" && !task) {
      throw conflict("The escalation's task no longer exists; dismiss it");
    }
    const details: Record<string, unknown> = {};
    if (task && values.action === "reassign") {
      if (values.agent) {
        const assigned = await assignTaskToAgent(ctx, task, values.agent);
        details.agent = assigned.agent;
      } else {
        await returnToReady(ctx, task);
      }
    } else if (task && values.action === "merge_scopes") {
      Object.assign(details, await mergeScopes(ctx, task));
    } else if (task && values.action === "cancel") {
      await cancel(ctx, task, ctx.reason);
    } else if (task && values.action === "unblock") {
      // Only a blocked task is unblocked; a held one is released elsewhere.
      if (task.status !== "blocked") {
        throw conflict(
          `Task '${task.title}' is ${task.status}, not blocked; reassign, ` +
            "cancel or dismiss instead",
          { status: task.status },
        );
      }
      await transitionTask(tx, task, {
        from: task.status as TaskStatus,
        to: "ready",
        by: ctx.by,
        reason: ctx.reason,
        at,
      });
    }
    await tx
      .update(escalations)
      .set({
        status: "resolved",
        resolution,
        resolutionNote: values.note || null,
        resolvedByLabel: actorLabel(actor),
        resolvedAt: at,
      })
      .where(eq(escalations.id, escalation.id));
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "escalation.resolve",
      targetType: "escalation",
      targetId: escalation.id,
      details: {
        kind: escalation.kind,
        resolution,
        taskId: escalation.taskId,
        taskTitle: task?.title ?? null,
        note: values.note || null,
        resolvedById: actorId(actor),
        ...details,
      },
    });
  });
  const [view] = await selectEscalationViews(
    db,
    eq(escalations.id, found.id),
    "newest",
    1,
  );

  return view;
}
