import { and, desc, eq, lte, sql, type SQL } from "drizzle-orm";
import { queryRows, type Database, inTransaction } from "@/db/client";
import { agents, taskLeases, tasks } from "@/db/schema";
import { assertAgentActive } from "@/server/guardrails/agents";
import { assertProjectActive } from "@/server/guardrails/policy";
import {
  assertWithinBudget,
  goalSpend,
  overBudgetGoals,
} from "@/server/guardrails/budget";
import { conflict, notFound } from "@/server/errors";
import type { Actor } from "@/server/identity/actor";
import { parseInput } from "@/server/input";
import { newId, now } from "@/server/runtime";
import {
  claimInput,
  completeInput,
  DEFAULT_LEASE_SECONDS,
  failInput,
  heartbeatInput,
  releaseInput,
  type TaskStatus,
} from "./schemas";
import { promoteDependents } from "./dependencies";
import { maxAttemptsSql } from "./settings";
import {
  lapsableStatuses,
  leaseHeldStatuses,
  sourcesOf,
  transitionBy,
  transitionTask,
} from "./states";
import { findGoalRow, loadTaskView, money, type TaskView } from "./views";

// Claims and leases. An agent claims the best ready task of its project and
// holds it under a lease that expires unless heartbeats extend it; only the
// holder of a live lease may complete, fail or release the task. Each lease
// is also written to task_leases, so "which task did this agent hold at
// time T" has an answer after the fact.

type AgentActor = Extract<Actor, { kind: "agent" }>;

export interface Lease {
  id: string;
  expiresAt: Date;
}

export interface ClaimedTask {
  task: TaskView;
  lease: Lease;
}

function inList(values: string[]): SQL {
  return sql.join(
    values.map((value) => sql`${value}`),
    sql`, `,
  );
}

// What a claim may pick, from the state machine: tasks an agent may move to
// claimed, and held tasks the system may return to ready because their
// lease ran out (the lazy reclaim; the sweeper does the same on a timer).
const claimableStatuses = sourcesOf("claimed", "agent");
const reclaimableStatuses = lapsableStatuses();

/** Which tasks may be claimed at `at`: ready ones, and held ones whose lease
 * has run out while attempts remain. Paused and finished goals offer
 * nothing. */
function claimableWhere(
  projectId: string,
  at: Date,
  goalId: string | undefined,
  excludedGoalIds: string[],
  includedGoalIds?: string[],
): SQL {
  const parts = [
    sql`t.project_id = ${projectId}`,
    sql`g.status = 'active'`,
    sql`(t.status in (${inList(claimableStatuses)})
      or (t.status in (${inList(reclaimableStatuses)})
        and t.lease_expires_at <= ${at.toISOString()}::timestamptz
        and t.attempts < ${maxAttemptsSql(sql`t.project_id`)}))`,
  ];
  if (goalId) parts.push(sql`t.goal_id = ${goalId}`);
  if (excludedGoalIds.length > 0) {
    parts.push(sql`t.goal_id not in (${inList(excludedGoalIds)})`);
  }
  if (includedGoalIds) {
    parts.push(sql`t.goal_id in (${inList(includedGoalIds)})`);
  }

  return sql.join(parts, sql` and `);
}

/**
 * Claims the best ready task: highest priority, then oldest. One statement
 * picks the row with FOR UPDATE SKIP LOCKED (concurrent claimers on
 * PostgreSQL pass over each other's rows instead of waiting), leases it,
 * closes the expired lease it replaces and records the new one. PGlite runs
 * one statement at a time, so the same statement is atomic there too.
 * Returns null when nothing is ready.
 */
export async function claimNextTask(
  db: Database,
  actor: AgentActor,
  input: unknown = {},
): Promise<ClaimedTask | null> {
  const values = parseInput(claimInput, input ?? {});
  await assertAgentActive(db, actor.agentId);
  await assertProjectActive(db, actor.projectId);
  if (values.goalId) {
    const goal = await findGoalRow(db, values.goalId);
    if (goal.projectId !== actor.projectId) {
      throw notFound("Goal", values.goalId);
    }
    assertWithinBudget({
      id: goal.id,
      title: goal.title,
      budgetUsd: money(goal.budgetUsd),
      spendUsd: await goalSpend(db, goal.id),
    });
  }
  const overBudget = await overBudgetGoals(db, actor.projectId);
  const excluded = overBudget.map((goal) => goal.id);

  const at = now();
  const ttlSeconds = values.ttlSeconds ?? DEFAULT_LEASE_SECONDS;
  const lease: Lease = {
    id: newId(),
    expiresAt: new Date(at.getTime() + ttlSeconds * 1000),
  };
  const atText = at.toISOString();
  const by = transitionBy(actor);
  const expiresText = lease.expiresAt.toISOString();
  const [claimed] = await queryRows<{ id: string }>(
    db,
    sql`
      with picked as (
        select t.id, t.lease_id as replaced_lease_id,
          t.status as from_status, t.lease_expires_at as expired_at
        from tasks t
        join goals g on g.id = t.goal_id
        where ${claimableWhere(actor.projectId, at, values.goalId, excluded)}
        order by t.priority desc, t.created_at asc, t.id asc
        limit 1
        for update of t skip locked
      ),
      claimed as (
        update tasks set
          status = 'claimed',
          holder_agent_id = ${actor.agentId},
          lease_id = ${lease.id},
          lease_expires_at = ${expiresText}::timestamptz,
          lease_version = tasks.lease_version + 1,
          attempts = tasks.attempts + 1,
          updated_at = ${atText}::timestamptz
        from picked
        where tasks.id = picked.id
        returning tasks.id, picked.replaced_lease_id, picked.from_status,
          picked.expired_at
      ),
      expired as (
        update task_leases set ended_at = expires_at, end_reason = 'expired'
        where ended_at is null
          and lease_id in (select replaced_lease_id from claimed)
        returning lease_id
      ),
      recorded as (
        insert into task_leases
          (lease_id, task_id, agent_id, claimed_at, expires_at, ttl_seconds)
        select ${lease.id}, claimed.id, ${actor.agentId},
          ${atText}::timestamptz, ${expiresText}::timestamptz, ${ttlSeconds}
        from claimed
        returning lease_id
      ),
      -- The history: a lapsed lease first returns the task to ready (by
      -- the system), then this agent claims it.
      transitioned as (
        insert into task_transitions (task_id, from_status, to_status,
          actor_type, actor_id, actor_label, reason, at)
        select task_id, from_status, to_status, actor_type, actor_id,
          actor_label, reason, at
        from (
          select 1 as ordinal, claimed.id as task_id,
            claimed.from_status, 'ready' as to_status,
            'system' as actor_type, null as actor_id,
            'system:lease-sweeper' as actor_label,
            'lease expired' as reason, claimed.expired_at as at
          from claimed where claimed.replaced_lease_id is not null
          union all
          select 2, claimed.id, 'ready', 'claimed', ${by.type}, ${by.id},
            ${by.label}, 'claimed', ${atText}::timestamptz
          from claimed
        ) steps
        order by ordinal
        returning id
      )
      select claimed.id from claimed
    `,
  );
  if (claimed) return { task: await loadTaskView(db, claimed.id), lease };

  // Nothing was claimable. If that is only because of spent budgets, say so.
  if (overBudget.length > 0) {
    const onlyOverBudget = claimableWhere(
      actor.projectId,
      at,
      values.goalId,
      [],
      excluded,
    );
    const blocked = await queryRows<{ goal_id: string }>(
      db,
      sql`
        select t.goal_id from tasks t join goals g on g.id = t.goal_id
        where ${onlyOverBudget}
        order by t.priority desc, t.created_at asc
        limit 1
      `,
    );
    const goal = overBudget.find((g) => g.id === blocked[0]?.goal_id);
    if (goal) assertWithinBudget(goal);
  }

  return null;
}

interface HeldTask {
  row: typeof tasks.$inferSelect;
  lease: typeof taskLeases.$inferSelect;
}

/** Loads a task for a change by its holder and checks the caller holds a
 * live lease on it; otherwise a 409 that says who holds it, or why not. */
async function lockHeldTask(
  tx: Database,
  actor: AgentActor,
  taskId: string,
  leaseId: string | undefined,
  at: Date,
): Promise<HeldTask> {
  const [row] = await tx
    .select()
    .from(tasks)
    .where(eq(tasks.id, taskId))
    .for("update");
  if (!row || row.projectId !== actor.projectId) {
    throw notFound("Task", taskId);
  }
  const title = `Task '${row.title}'`;
  const named = `task '${row.title}'`;
  const held = leaseHeldStatuses.includes(row.status as TaskStatus);
  if (!held || !row.holderAgentId || !row.leaseId) {
    throw conflict(`${title} is not held by any agent (it is ${row.status})`, {
      status: row.status,
      holder: null,
    });
  }
  if (row.holderAgentId !== actor.agentId) {
    const holder = await agentName(tx, row.holderAgentId);
    throw conflict(`${title} is held by agent ${holder}, not by you`, {
      status: row.status,
      holder,
    });
  }
  if (leaseId && leaseId !== row.leaseId) {
    throw conflict(
      `Lease ${leaseId} on ${named} was replaced by a newer ` +
        "claim; use the lease from your latest claim",
      { status: row.status, holder: actor.agentName },
    );
  }
  if (!row.leaseExpiresAt || row.leaseExpiresAt <= at) {
    throw conflict(
      `Your lease on ${named} expired at ` +
        `${row.leaseExpiresAt?.toISOString() ?? "an unknown time"}; ` +
        "claim a task again",
      {
        status: row.status,
        holder: actor.agentName,
        leaseExpiresAt: row.leaseExpiresAt?.toISOString() ?? null,
      },
    );
  }
  const [lease] = await tx
    .select()
    .from(taskLeases)
    .where(eq(taskLeases.leaseId, row.leaseId))
    .limit(1);
  if (!lease) {
    // A claim always records its lease; a missing one is our own fault.
    throw new Error(`Lease ${row.leaseId} of task ${row.id} is not recorded`);
  }

  return { row, lease };
}

async function agentName(db: Database, agentId: string): Promise<string> {
  const [agent] = await db
    .select({ name: agents.name })
    .from(agents)
    .where(eq(agents.id, agentId))
    .limit(1);

  return agent?.name ?? agentId;
}

/** Extends the caller's lease; the first heartbeat marks the task as in
 * progress. */
export async function heartbeat(
  db: Database,
  actor: AgentActor,
  input: unknown,
): Promise<ClaimedTask> {
  const values = parseInput(heartbeatInput, input);
  const at = now();
  const lease = await inTransaction(db, async (tx) => {
    const { taskId, leaseId } = values;
    const held = await lockHeldTask(tx, actor, taskId, leaseId, at);
    const ttlSeconds = values.ttlSeconds ?? held.lease.ttlSeconds;
    const expiresAt = new Date(at.getTime() + ttlSeconds * 1000);
    if (held.row.status === "claimed") {
      await transitionTask(tx, held.row, {
        from: "claimed",
        to: "in_progress",
        by: transitionBy(actor),
        reason: "first heartbeat",
        at,
        set: { leaseExpiresAt: expiresAt },
      });
    } else {
      await tx
        .update(tasks)
        .set({ leaseExpiresAt: expiresAt, updatedAt: at })
        .where(eq(tasks.id, held.row.id));
    }
    await tx
      .update(taskLeases)
      .set({ expiresAt, ttlSeconds })
      .where(eq(taskLeases.leaseId, held.lease.leaseId));

    return { id: held.lease.leaseId, expiresAt };
  });

  return { task: await loadTaskView(db, values.taskId), lease };
}

/** Ends the caller's lease, moving the task to `status`. */
async function settle(
  db: Database,
  actor: AgentActor,
  values: { taskId: string; leaseId?: string },
  status: "done" | "failed" | "ready",
  endReason: string,
  result: string | null,
): Promise<{ task: TaskView }> {
  const at = now();
  await inTransaction(db, async (tx) => {
    const { taskId, leaseId } = values;
    const held = await lockHeldTask(tx, actor, taskId, leaseId, at);
    await transitionTask(tx, held.row, {
      from: held.row.status as TaskStatus,
      to: status,
      by: transitionBy(actor),
      reason: status === "failed" ? result : endReason,
      at,
      set: {
        holderAgentId: null,
        leaseId: null,
        leaseExpiresAt: null,
        ...(status === "ready" ? {} : { completedAt: at, result }),
      },
    });
    if (status === "done") await promoteDependents(tx, held.row.id, at);
    await tx
      .update(taskLeases)
      .set({ endedAt: at, endReason })
      .where(eq(taskLeases.leaseId, held.lease.leaseId));
  });

  return { task: await loadTaskView(db, values.taskId) };
}

export async function completeTask(
  db: Database,
  actor: AgentActor,
  input: unknown,
) {
  const values = parseInput(completeInput, input);

  return settle(db, actor, values, "done", "completed", values.result ?? null);
}

export async function failTask(
  db: Database,
  actor: AgentActor,
  input: unknown,
) {
  const values = parseInput(failInput, input);

  return settle(db, actor, values, "failed", "failed", values.reason);
}

/** Gives the task back: it is ready for another claim at once. */
export async function releaseTask(
  db: Database,
  actor: AgentActor,
  input: unknown,
) {
  const values = parseInput(releaseInput, input);

  return settle(db, actor, values, "ready", "released", null);
}

/**
 * The task an agent held at a moment, or null. Observability calls this to
 * attribute reported spend; it reads the lease history, so a late report
 * still lands on the task that was held when the work happened. A lease
 * counts from its claim until it ended or expired, whichever came first.
 */
export async function taskHeldBy(
  db: Database,
  agentId: string,
  at: Date,
): Promise<{ id: string; goalId: string } | null> {
  const moment = sql`${at.toISOString()}::timestamptz`;
  const [held] = await db
    .select({ id: taskLeases.taskId, goalId: tasks.goalId })
    .from(taskLeases)
    .innerJoin(tasks, eq(tasks.id, taskLeases.taskId))
    .where(
      and(
        eq(taskLeases.agentId, agentId),
        lte(taskLeases.claimedAt, at),
        // least() skips nulls: an open lease runs until it expires.
        sql`least(${taskLeases.endedAt}, ${taskLeases.expiresAt}) > ${moment}`,
      ),
    )
    .orderBy(desc(taskLeases.claimedAt))
    .limit(1);

  return held ?? null;
}
