import { and, desc, eq, inArray, lte, sql, type SQL } from "drizzle-orm";
import { queryRows, type Database, inTransaction } from "@/db/client";
import { agents, orchestrationSettings, taskLeases, tasks } from "@/db/schema";
import { assertAgentActive } from "@/server/guardrails/agents";
import { assertProjectActive } from "@/server/guardrails/policy";
import {
  budgetRefusalFor,
  exhaustedMessage,
  loadBudgetRules,
  measureBudgets,
  refusalDetails,
} from "@/server/guardrails/budget-spend";
import {
  claimLimits,
  gateLockNames,
  openGate,
  type ClaimLimits,
  type GateCandidate,
} from "@/server/guardrails/claim-gate";
import {
  agentActiveLimit,
  agentHeldCount,
  agentLimitMessage,
  goalLimitMessage,
  goalLimits,
  toAgentLimit,
} from "@/server/guardrails/concurrency";
import { conflict, forbidden, invalidInput, notFound } from "@/server/errors";
import type { Actor } from "@/server/identity/actor";
import { parseInput } from "@/server/input";
import { newId, now } from "@/server/runtime";
import {
  claimInput,
  completeInput,
  failInput,
  heartbeatInput,
  releaseInput,
  requestReviewInput,
  type TaskStatus,
} from "./schemas";
import { promoteDependents } from "./dependencies";
import { agentNotices, type AgentNotices } from "./notices";
import { maxAttemptsSql, orchestrationSettingsFor } from "./settings";
import { firstOverlap, lockScopeRoots } from "./scopes";
import {
  lapsableStatuses,
  leaseHeldStatuses,
  sourcesOf,
  transitionBy,
  transitionTask,
} from "./states";
import {
  findGoalRow,
  loadTaskView,
  selectTaskViews,
  type TaskView,
} from "./views";
import { recordActivity } from "@/server/observability/activity";

// Claims and leases. An agent claims the best ready task of its project and
// holds it under a lease that expires unless heartbeats extend it; only the
// holder of a live lease may complete, fail or release the task. Each lease
// is also written to task_leases, so "which task did this agent hold at
// time T" has an answer after the fact.

type AgentActor = Extract<Actor, { kind: "agent" }>;

export interface Lease {
  id: string;
  expiresAt: Date;
  // Grows with every claim of the task; writes may carry it so one from a
  // holder that lost the task since is refused.
  fencingToken: number;
}

export interface ClaimedTask {
  task: TaskView;
  lease: Lease;
}

export interface ClaimResult {
  claimed: ClaimedTask[];
  // Filled when nothing was claimed: why the first ready tasks were not.
  skipped: SkipReason[];
  // News for the agent: new directives, decisions on its plans.
  notices: AgentNotices;
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

/** SQL: how many segments a root has ("" has none). */
function pathDepth(root: SQL): SQL {
  return sql`coalesce(array_length(string_to_array(${root}, '/'), 1), 0)`;
}

/** SQL: the first `depth` segments of a root ("" at depth 0). */
function pathAtDepth(root: SQL, depth: SQL): SQL {
  return sql`array_to_string((string_to_array(${root}, '/'))[1:${depth}], '/')`;
}

function textArray(values: string[]): SQL {
  return values.length === 0
    ? sql`'{}'::text[]`
    : sql`array[${inList(values)}]::text[]`;
}

interface ClaimContext {
  agent: { capabilities: string[] };
  /** Goals left out of the pick: a spent budget, or at their limit. */
  excludedGoalIds: string[];
  limits: ClaimLimits;
}

/** Checks that the agent may claim at all and gathers what the claim
 * statement needs: the agent's capabilities, its budgets and limits, and
 * the goals it cannot take tasks of now. */
async function prepareClaim(
  db: Database,
  actor: AgentActor,
  goalId: string | undefined,
): Promise<ClaimContext> {
  await assertAgentActive(db, actor.agentId);
  await assertProjectActive(db, actor.projectId);
  if (goalId) {
    const goal = await findGoalRow(db, goalId);
    if (goal.projectId !== actor.projectId) throw notFound("Goal", goalId);
  }
  const [agent] = await db
    .select({
      name: agents.name,
      capabilities: agents.capabilities,
      maxActiveTasks: agents.maxActiveTasks,
      projectMaxActive: orchestrationSettings.maxActivePerAgent,
    })
    .from(agents)
    .leftJoin(
      orchestrationSettings,
      eq(orchestrationSettings.projectId, agents.projectId),
    )
    .where(eq(agents.id, actor.agentId))
    .limit(1);
  const limits = await claimLimits(
    db,
    {
      projectId: actor.projectId,
      agentId: actor.agentId,
      agentLimit: agent
        ? toAgentLimit(
            agent.name,
            agent.maxActiveTasks,
            agent.projectMaxActive ?? null,
          )
        : null,
      goalId,
    },
    now(),
  );

  return {
    agent: { capabilities: agent?.capabilities ?? [] },
    excludedGoalIds: [...limits.spentGoals.keys(), ...limits.fullGoalIds],
    limits,
  };
}

/** The lease length a claim gets, within the project's limits. */
async function leaseSecondsFor(
  db: Database,
  projectId: string,
  asked: number | undefined,
): Promise<number> {
  const limits = await orchestrationSettingsFor(db, projectId);
  if (asked === undefined) {
    return Math.min(limits.defaultLeaseSeconds, limits.maxLeaseSeconds);
  }
  if (asked > limits.maxLeaseSeconds) {
    const message = `This project's leases last at most ${limits.maxLeaseSeconds} seconds`;
    throw invalidInput(`Invalid input: ttlSeconds: ${message}`, [
      { path: "ttlSeconds", message },
    ]);
  }

  return asked;
}

/**
 * Claims up to `count` tasks (default 1): ready tasks of the agent's
 * project, highest priority first, then oldest, that
 * - need no capability the agent lacks,
 * - overlap no scope another agent holds (a task under a live lease, or a
 *   reservation),
 * - belong to an active goal,
 * - pass every budget that covers them and the agent's and the goal's
 *   limits on active tasks (server/guardrails/claim-gate.ts).
 *
 * In one transaction: the first statement picks candidates with FOR UPDATE
 * SKIP LOCKED, so concurrent claimers pass over each other's rows; advisory
 * locks on the candidates' scope roots, budgets and limits then make
 * concurrent claimers that touch the same ones wait for each other (see
 * lockScopeRoots); the gate re-reads spend, reservations and held counts,
 * and the second statement re-checks the overlap against what those
 * committed and leases what is still free, records each lease and the
 * history. A candidate lost
 * to the re-check is left for a later claim. PGlite runs one transaction at
 * a time, so the same steps are atomic there too.
 */
export async function claimTasks(
  db: Database,
  actor: AgentActor,
  input: unknown = {},
): Promise<ClaimResult> {
  const result = await claimReadyTasks(db, actor, input);
  recordActivity(
    db,
    actor,
    result.claimed.map(({ task, lease }) => ({
      type: "claim",
      name: "task.claimed",
      taskId: task.id,
      output: { title: task.title, leaseExpiresAt: lease.expiresAt },
      attributes: { leaseId: lease.id, fencingToken: lease.fencingToken },
    })),
  );

  return result;
}

async function claimReadyTasks(
  db: Database,
  actor: AgentActor,
  input: unknown,
): Promise<ClaimResult> {
  const values = parseInput(claimInput, input ?? {});
  const count = values.count ?? 1;
  const context = await prepareClaim(db, actor, values.goalId);
  const { agentLimit } = context.limits;
  if (agentLimit && context.limits.agentHeld >= agentLimit.limit) {
    return {
      claimed: [],
      skipped: await explainSkips(db, actor.projectId, {
        agentId: actor.agentId,
        goalId: values.goalId,
      }),
      notices: await agentNotices(db, actor),
    };
  }
  const ttlSeconds = await leaseSecondsFor(
    db,
    actor.projectId,
    values.ttlSeconds,
  );

  // Taken again at the start of each round, so a claim that waited stamps
  // its lease with the time it was made, not the time it was asked for.
  let at = now();
  let atText = at.toISOString();
  let expiresAt = new Date(at.getTime() + ttlSeconds * 1000);
  let expiresText = expiresAt.toISOString();
  const by = transitionBy(actor);
  const agentCapabilities = textArray(context.agent.capabilities);
  const goalFilter = values.goalId
    ? sql`and t.goal_id = ${values.goalId}`
    : sql``;
  // Goals out of budget or at their limit, and those a round found so.
  const excludedGoals = new Set(context.excludedGoalIds);
  const limitFilter = () =>
    excludedGoals.size > 0
      ? sql`and t.goal_id not in (${inList([...excludedGoals])})`
      : sql``;

  /** Other agents' held roots (tasks under a live lease, reservations)
   * and every path at or above one of them, as the CTEs `holds` and
   * `held`, for rootsMeetSql. */
  const heldCtes = (moment: SQL) => sql`
holds as materialized (
        select coalesce(array_agg(distinct x.r), '{}'::text[]) as roots
        from (
          select unnest(h.scope_roots) as r from tasks h
          where h.project_id = ${actor.projectId}
            and h.status in (${inList([...leaseHeldStatuses])})
            and h.holder_agent_id <> ${actor.agentId}
            and h.lease_expires_at > ${moment}
          union all
          select unnest(r.roots) from reservations r
          where r.project_id = ${actor.projectId}
            and r.agent_id <> ${actor.agentId}
            and r.released_at is null and r.expires_at > ${moment}
        ) x
      ),
      held as materialized (
        select holds.roots,
          coalesce((select array_agg(distinct ${pathAtDepth(sql`p.r`, sql`n`)})
            from unnest(holds.roots) as p(r),
              generate_series(0, ${pathDepth(sql`p.r`)}) as n), '{}'::text[])
            as above
        from holds
      )
  `;

  type Candidate = {
    id: string;
    goal_id: string;
    estimate_usd: string | null;
    goal_limited: boolean;
    scope_roots: string[];
    priority: number;
    created_at: string;
  };
  /** Candidates in one set of states, best first, locked for this
   * transaction. Other agents' holds are gathered once and compared with
   * each task. */
  const pickCandidates = async (
    tx: Database,
    states: SQL,
    excluded: string[],
    wanted: number,
    windowed: boolean,
  ) => {
    const moment = sql`${atText}::timestamptz`;
    const notPassed =
      excluded.length > 0 ? sql`and t.id not in (${inList(excluded)})` : sql``;
    const query = (window: number | null) => sql`
      -- Other agents' held roots, and every path at or above one of them.
      with ${heldCtes(moment)},
      -- Every test runs on this short list, read in claim order, so the
      -- planner never weighs them against the whole table.
      best as materialized (
        select t.id, t.goal_id, t.scope_roots, t.priority, t.created_at,
          t.capabilities
        from tasks t
        where t.project_id = ${actor.projectId} and ${states} ${goalFilter}
          ${limitFilter()} ${notPassed}
        order by t.priority desc nulls last, t.created_at asc, t.id asc
        ${window === null ? sql`` : sql`limit ${window}`}
      ),
      free as materialized (
        select b.* from best b
        join goals g on g.id = b.goal_id
        where g.status = 'active' and b.capabilities <@ ${agentCapabilities}
          and not ${rootsMeetSql(sql`b.scope_roots`)}
      )
      select t.id, f.goal_id, t.estimate_usd,
        g.max_active_tasks is not null as goal_limited,
        f.scope_roots, f.priority, f.created_at
      from free f
      join tasks t on t.id = f.id
      join goals g on g.id = f.goal_id
      where ${states}
      order by f.priority desc nulls last, f.created_at asc, f.id asc
      limit ${wanted}
      for update of t skip locked
    `;
    // First among the best tasks in claim order, read straight off the
    // claim-order index; only when those cannot serve the claim (held by
    // others, locked by concurrent claims, needing other capabilities),
    // among more of them, then all.
    if (!windowed) return queryRows<Candidate>(tx, query(null));
    for (const window of [48 + wanted * 8, 512 + wanted * 64]) {
      const found = await queryRows<Candidate>(tx, query(window));
      if (found.length >= wanted) return found;
    }

    return queryRows<Candidate>(tx, query(null));
  };

  /** Whether any of `roots` overlaps a root in `held`: one of them lies at
   * or above a held root, or a held root lies at or above one of them.
   * Array lookups rather than comparing every pair. */
  const rootsMeetSql = (roots: SQL) => sql`(
    ${roots} && (select above from held)
    or exists (
      select 1 from unnest(${roots}) as q(r),
        generate_series(0, ${pathDepth(sql`q.r`)}) as n
      where ${pathAtDepth(sql`q.r`, sql`n`)} = any((select roots from held)::text[])
    ))`;

  type ClaimedRow = { id: string; lease_id: string; lease_version: number };
  const claimRound = (passedOver: string[], wanted: number) =>
    inTransaction(db, async (tx) => {
      at = now();
      atText = at.toISOString();
      expiresAt = new Date(at.getTime() + ttlSeconds * 1000);
      expiresText = expiresAt.toISOString();
      // Ready tasks, and held ones whose lease ran out while attempts
      // remain (taken over at once rather than after the next sweep).
      const lapsed = await pickCandidates(
        tx,
        sql`t.status in (${inList(reclaimableStatuses)})
          and t.lease_expires_at <= ${atText}::timestamptz
          and t.attempts < ${maxAttemptsSql(sql`t.project_id`)}`,
        passedOver,
        wanted,
        false,
      );
      const ready = await pickCandidates(
        tx,
        sql`t.status in (${inList(claimableStatuses)})`,
        passedOver,
        wanted,
        true,
      );
      // Rows locked here but not taken are let go at commit.
      const candidates = [...lapsed, ...ready]
        .sort(
          (a, b) =>
            b.priority - a.priority ||
            new Date(a.created_at).getTime() -
              new Date(b.created_at).getTime() ||
            (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
        )
        .slice(0, wanted);
      if (candidates.length === 0) {
        return { rows: [], order: [], passedOver: [], stop: false };
      }
      const gated = candidates.map((c) => ({
        id: c.id,
        goalId: c.goal_id,
        estimateUsd: Number(c.estimate_usd ?? 0),
        goalLimited: c.goal_limited,
      })) satisfies (GateCandidate & { id: string })[];
      await lockScopeRoots(
        tx,
        actor.projectId,
        candidates.flatMap((c) => c.scope_roots),
        gateLockNames(context.limits, actor.agentId, gated),
      );
      // The leases start now, after any wait for the locks, so the history
      // keeps its order and the lease is as long as asked.
      at = now();
      atText = at.toISOString();
      expiresAt = new Date(at.getTime() + ttlSeconds * 1000);
      expiresText = expiresAt.toISOString();
      // Budgets and limits as they are now that every claim before this
      // one that touches them has committed: each candidate in turn,
      // counting the ones admitted before it.
      const gate = await openGate(
        tx,
        context.limits,
        { projectId: actor.projectId, agentId: actor.agentId },
        gated,
        at,
      );
      const admitted: typeof gated = [];
      const refused: string[] = [];
      let stop = false;
      for (const candidate of gated) {
        const refusal = gate.admit(candidate);
        if (!refusal) {
          admitted.push(candidate);
          continue;
        }
        refused.push(candidate.id);
        // A goal at its limit or out of budget offers nothing more in
        // later rounds; an agent at its own limit can take nothing more.
        if (refusal.goalId) excludedGoals.add(refusal.goalId);
        if (refusal.final) stop = true;
      }
      if (admitted.length === 0) {
        return { rows: [], order: [], passedOver: refused, stop };
      }
      // Lease ids in candidate order; the statement pairs them by position.
      const ids = admitted.map((c) => c.id);
      const leaseIds = ids.map(() => newId());
      const triples = sql.join(
        ids.map((id, i) => sql`(${id}::uuid, ${leaseIds[i]}::uuid, ${i}::int)`),
        sql`, `,
      );
      const rows = await queryRows<ClaimedRow>(
        tx,
        sql`
        with ${heldCtes(sql`${atText}::timestamptz`)},
        wanted(task_id, new_lease_id, ordinal) as (values ${triples}),
        -- Still free of other agents' scopes now that every overlapping
        -- claim before this one has committed (budgets and limits were
        -- checked by the gate above, under their own locks).
        picked as (
          select t.id, w.new_lease_id, t.lease_id as replaced_lease_id,
            t.status as from_status, t.lease_expires_at as expired_at
          from tasks t
          join wanted w on w.task_id = t.id
          where not ${rootsMeetSql(sql`t.scope_roots`)}
        ),
        claimed as (
          update tasks set
            status = 'claimed',
            holder_agent_id = ${actor.agentId},
            lease_id = picked.new_lease_id,
            lease_expires_at = ${expiresText}::timestamptz,
            lease_version = tasks.lease_version + 1,
            attempts = tasks.attempts + 1,
            updated_at = ${atText}::timestamptz
          from picked
          where tasks.id = picked.id
          returning tasks.id, tasks.lease_id, tasks.lease_version,
            picked.replaced_lease_id, picked.from_status, picked.expired_at
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
          select claimed.lease_id, claimed.id, ${actor.agentId},
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
        select claimed.id, claimed.lease_id, claimed.lease_version
        from claimed
      `,
      );

      const claimedIds = new Set(rows.map((row) => row.id));

      return {
        rows,
        order: ids.filter((id) => claimedIds.has(id)),
        passedOver: [...refused, ...ids.filter((id) => !claimedIds.has(id))],
        stop,
      };
    });

  // A candidate lost to the re-check (another agent's overlapping claim, no
  // budget left, a limit reached) is passed over and the next ones tried,
  // in a fresh transaction so advisory locks are always taken in one sorted
  // pass.
  const claimedTx = { rows: [] as ClaimedRow[], order: [] as string[] };
  const passedOver: string[] = [];
  for (let round = 0; round < 3; round += 1) {
    const wanted = count - claimedTx.rows.length;
    if (wanted <= 0) break;
    const result = await claimRound(passedOver, wanted);
    claimedTx.rows.push(...result.rows);
    claimedTx.order.push(...result.order);
    passedOver.push(...result.passedOver);
    if (result.passedOver.length === 0 || result.stop) break;
  }
  const claimedRows = claimedTx.rows;

  if (claimedRows.length > 0) {
    // Best first, as the candidates were picked.
    const order = new Map(claimedTx.order.map((id, i) => [id, i]));
    const views = await selectTaskViews(
      db,
      inArray(
        tasks.id,
        claimedRows.map((row) => row.id),
      ),
    );
    views.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    const byId = new Map(claimedRows.map((row) => [row.id, row]));

    return {
      claimed: views.map((task) => ({
        task,
        lease: {
          id: byId.get(task.id)!.lease_id,
          expiresAt,
          fencingToken: Number(byId.get(task.id)!.lease_version),
        },
      })),
      skipped: [],
      notices: await agentNotices(db, actor),
    };
  }

  // Nothing was claimable. If that is only because of spent goal budgets,
  // refuse naming the budget.
  const { spentGoals } = context.limits;
  if (spentGoals.size > 0) {
    const onlySpent = claimableWhere(
      actor.projectId,
      at,
      values.goalId,
      [],
      [...spentGoals.keys()],
    );
    const blocked = await queryRows<{ goal_id: string }>(
      db,
      sql`
        select t.goal_id from tasks t join goals g on g.id = t.goal_id
        where ${onlySpent}
        order by t.priority desc, t.created_at asc
        limit 1
      `,
    );
    const spent = spentGoals.get(blocked[0]?.goal_id ?? "");
    if (spent) throw forbidden(exhaustedMessage(spent), refusalDetails(spent));
  }

  return {
    claimed: [],
    skipped: await explainSkips(db, actor.projectId, {
      agentId: actor.agentId,
      goalId: values.goalId,
    }),
    notices: await agentNotices(db, actor),
  };
}

/** Claims the best task for the agent, or null when none can be had. */
export async function claimNextTask(
  db: Database,
  actor: AgentActor,
  input: unknown = {},
): Promise<ClaimedTask | null> {
  const values = parseInput(claimInput, input ?? {});
  const result = await claimTasks(db, actor, { ...values, count: 1 });

  return result.claimed[0] ?? null;
}

export interface SkipReason {
  taskId: string;
  title: string;
  // capability | scope | reservation | budget | concurrency | goal_paused
  // | dependencies | attempts
  reason: string;
  message: string;
}

/**
 * Why ready tasks are not being claimed: for the operator (one task, any
 * agent) and for an agent whose claim found nothing (the first few ready
 * tasks, from its point of view). Reads the same rules claimTasks applies.
 */
export async function explainSkips(
  db: Database,
  projectId: string,
  options: {
    agentId?: string;
    goalId?: string;
    taskId?: string;
    limit?: number;
  },
): Promise<SkipReason[]> {
  const at = now();
  const filters = [sql`t.project_id = ${projectId}`];
  if (options.taskId) filters.push(sql`t.id = ${options.taskId}`);
  if (options.goalId) filters.push(sql`t.goal_id = ${options.goalId}`);
  const rows = await queryRows<{
    id: string;
    title: string;
    status: TaskStatus;
    scope_roots: string[];
    capabilities: string[];
    goal_id: string;
    goal_title: string;
    goal_status: string;
    estimate_usd: string | null;
  }>(
    db,
    sql`
      select t.id, t.title, t.status, t.scope_roots, t.capabilities,
        t.goal_id, g.title as goal_title, g.status as goal_status,
        t.estimate_usd
      from tasks t join goals g on g.id = t.goal_id
      where ${sql.join(filters, sql` and `)}
        and t.status in ('ready', 'draft')
      order by t.priority desc, t.created_at asc, t.id asc
      limit ${options.limit ?? 5}
    `,
  );
  if (rows.length === 0) return [];

  const moment = sql`${at.toISOString()}::timestamptz`;
  const holds = await queryRows<{
    kind: "task" | "reservation";
    agent_id: string;
    agent_name: string;
    roots: string[];
    label: string;
  }>(
    db,
    sql`
      select 'task' as kind, h.holder_agent_id as agent_id,
        a.name as agent_name, h.scope_roots as roots, h.title as label
      from tasks h join agents a on a.id = h.holder_agent_id
      where h.project_id = ${projectId}
        and h.status in (${inList([...leaseHeldStatuses])})
        and h.lease_expires_at > ${moment}
      union all
      select 'reservation', r.agent_id, a.name, r.roots,
        array_to_string(r.globs, ', ')
      from reservations r join agents a on a.id = r.agent_id
      where r.project_id = ${projectId} and r.released_at is null
        and r.expires_at > ${moment}
    `,
  );
  const projectAgents = await db
    .select({
      id: agents.id,
      name: agents.name,
      status: agents.status,
      capabilities: agents.capabilities,
    })
    .from(agents)
    .where(eq(agents.projectId, projectId));
  const asking = projectAgents.find((a) => a.id === options.agentId);
  // Budgets and limits as a claim by the asking agent (or, for the
  // operator, by any agent) would weigh them.
  const agentId = options.agentId ?? null;
  const goalIds = [...new Set(rows.map((row) => row.goal_id))];
  const rules = await loadBudgetRules(db, projectId, { agentId, goalIds });
  const [budgets, limitedGoals, agentLimit] = await Promise.all([
    measureBudgets(db, projectId, rules, at, { reserve: true }),
    goalLimits(db, projectId, goalIds, at),
    agentId ? agentLimitOf(db, agentId, at) : null,
  ]);
  const goalLimit = new Map(limitedGoals.map((g) => [g.goalId, g]));

  const reasons: SkipReason[] = [];
  for (const row of rows) {
    const skip = (reason: string, message: string) =>
      reasons.push({ taskId: row.id, title: row.title, reason, message });
    if (row.status === "draft") {
      skip("dependencies", "Waits for the tasks it depends on to be done");
      continue;
    }
    if (row.goal_status !== "active") {
      skip("goal_paused", `Goal '${row.goal_title}' is ${row.goal_status}`);
      continue;
    }
    const refusal = budgetRefusalFor(
      budgets,
      { goalId: row.goal_id, estimateUsd: Number(row.estimate_usd ?? 0) },
      agentId,
    );
    if (refusal) {
      skip("budget", refusal.message);
      continue;
    }
    if (agentLimit && agentLimit.held >= agentLimit.limit.limit) {
      skip("concurrency", agentLimitMessage(agentLimit.limit, agentLimit.held));
      continue;
    }
    const limited = goalLimit.get(row.goal_id);
    if (limited && limited.held >= limited.limit) {
      skip("concurrency", goalLimitMessage(limited, limited.held));
      continue;
    }
    const needs = row.capabilities;
    if (asking) {
      const missing = needs.filter((c) => !asking.capabilities.includes(c));
      if (missing.length > 0) {
        skip(
          "capability",
          `Needs capabilities ${missing.join(", ")} that agent ${asking.name} lacks`,
        );
        continue;
      }
    } else if (needs.length > 0) {
      const able = projectAgents.filter(
        (a) =>
          a.status === "active" &&
          needs.every((c) => a.capabilities.includes(c)),
      );
      if (able.length === 0) {
        skip(
          "capability",
          `Needs capabilities ${needs.join(", ")}; no active agent has all of them`,
        );
        continue;
      }
    }
    const conflicting = holds.find(
      (hold) =>
        hold.agent_id !== options.agentId &&
        firstOverlap(row.scope_roots, hold.roots) !== null,
    );
    if (conflicting) {
      const overlap = firstOverlap(row.scope_roots, conflicting.roots)!;
      const where = overlap.ours || "the whole project";
      skip(
        conflicting.kind === "task" ? "scope" : "reservation",
        conflicting.kind === "task"
          ? `Scope ${where} overlaps task '${conflicting.label}' held by agent ${conflicting.agent_name}`
          : `Scope ${where} overlaps a reservation of ${conflicting.label} by agent ${conflicting.agent_name}`,
      );
      continue;
    }
    if (!options.agentId) {
      skip("none", "Nothing stops this task; the next claim can take it");
    }
  }

  return reasons;
}

/** The agent's limit on held tasks and how many it holds, or null. */
async function agentLimitOf(db: Database, agentId: string, at: Date) {
  const limit = await agentActiveLimit(db, agentId);
  if (!limit) return null;

  return { limit, held: await agentHeldCount(db, agentId, at) };
}

interface HeldTask {
  row: typeof tasks.$inferSelect;
  lease: typeof taskLeases.$inferSelect;
}

/** Loads a task for a change by its holder and checks the caller holds a
 * live lease on it; otherwise a 409 that says who holds it, or why not.
 * Blocking a task (escalations.ts) checks the same way. */
export async function lockHeldTask(
  tx: Database,
  actor: AgentActor,
  proof: { taskId: string; leaseId?: string; fencingToken?: number },
  at: Date,
): Promise<HeldTask> {
  const { taskId, leaseId, fencingToken } = proof;
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
  if (fencingToken !== undefined && fencingToken !== row.leaseVersion) {
    throw conflict(
      `Fencing token ${fencingToken} on ${named} is stale: the task was ` +
        `claimed again since (token ${row.leaseVersion}); claim a task again`,
      { status: row.status, holder: actor.agentName },
    );
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
): Promise<ClaimedTask & { notices: AgentNotices }> {
  const values = parseInput(heartbeatInput, input);
  const askedTtl =
    values.ttlSeconds === undefined
      ? undefined
      : await leaseSecondsFor(db, actor.projectId, values.ttlSeconds);
  const lease = await inTransaction(db, async (tx) => {
    // Take the task's scope locks first, as claims do, and read the time
    // after them: a heartbeat racing a claim of an overlapping task then
    // either extends the lease before that claim looks, or finds the lease
    // already lapsed and taken over.
    const [scoped] = await tx
      .select({ projectId: tasks.projectId, roots: tasks.scopeRoots })
      .from(tasks)
      .where(eq(tasks.id, values.taskId))
      .limit(1);
    if (scoped && scoped.projectId === actor.projectId) {
      await lockScopeRoots(tx, actor.projectId, scoped.roots);
    }
    const at = now();
    const held = await lockHeldTask(tx, actor, values, at);
    const ttlSeconds = askedTtl ?? held.lease.ttlSeconds;
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

    return {
      id: held.lease.leaseId,
      expiresAt,
      fencingToken: held.row.leaseVersion,
    };
  });

  return {
    task: await loadTaskView(db, values.taskId),
    lease,
    notices: await agentNotices(db, actor),
  };
}

/** Ends the caller's lease, moving the task to `status`. */
async function settle(
  db: Database,
  actor: AgentActor,
  values: { taskId: string; leaseId?: string; fencingToken?: number },
  status: "done" | "failed" | "ready" | "in_review",
  endReason: string,
  result: string | null,
): Promise<{ task: TaskView }> {
  const at = now();
  await inTransaction(db, async (tx) => {
    const held = await lockHeldTask(tx, actor, values, at);
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
        ...(status === "ready"
          ? {}
          : status === "in_review"
            ? { result }
            : { completedAt: at, result }),
      },
    });
    if (status === "done") await promoteDependents(tx, held.row.id, at);
    await tx
      .update(taskLeases)
      .set({ endedAt: at, endReason })
      .where(eq(taskLeases.leaseId, held.lease.leaseId));
  });
  recordActivity(db, actor, [
    {
      type: "claim",
      name: `task.${endReason}`,
      // A failed task is a failure of the session's work.
      status: status === "failed" ? "error" : "ok",
      taskId: values.taskId,
      output:
        result === null
          ? undefined
          : { [status === "failed" ? "reason" : "result"]: result },
    },
  ]);

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

/** Hands the task in for an operator's review; the lease ends. */
export async function requestReview(
  db: Database,
  actor: AgentActor,
  input: unknown,
) {
  const values = parseInput(requestReviewInput, input);

  return settle(db, actor, values, "in_review", "review", values.note ?? null);
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
