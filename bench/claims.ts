import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import PgBoss from "pg-boss";
import postgres from "postgres";
import { FlotillaClient } from "@/client";
import { openDatabase, queryRows, type Database } from "@/db/client";
import * as schema from "@/db/schema";
import { assertAgentActive } from "@/server/guardrails/agents";
import { claimLimits } from "@/server/guardrails/claim-gate";
import { logger } from "@/server/log";
import { assertProjectActive } from "@/server/guardrails/policy";
import { openScratchDatabase, percentile } from "@/server/observability/bench";
import { startLeaseSweeper } from "@/server/orchestration";
import {
  claimNextTask,
  claimTasks,
  completeTask,
} from "@/server/orchestration/leases";
import { orchestrationSettingsFor } from "@/server/orchestration/settings";
import { newId } from "@/server/runtime";
import { loadTaskView } from "@/server/orchestration/views";
import {
  baselineDoubleClaims,
  ensureBuild,
  makeFleet,
  noteError,
  productDoubleClaims,
  round,
  runAgents,
  seedTasks,
  sleep,
  startConsole,
  stopAllConsoles,
  summarize,
  emptyStats,
  type AgentActor,
  type AgentDriver,
  type ConsoleServer,
  type LoggedClaim,
  type RunStats,
  type ScenarioResult,
} from "./claims-support";

// npm run bench:claims [-- --tasks N] [--seconds S] [--quick] [--only a,b]:
// agents claiming and completing tasks on PostgreSQL, in a scratch
// database next to DATABASE_URL's (created and dropped by the run). Each
// scenario gets a fresh queue of N ready tasks (default 20,000) and runs
// until it is empty or S seconds (default 45) have passed:
// - inprocess-32/64: claimNextTask + completeTask called in this process;
// - http-32/64: the same through the agent API of a production build
//   (`npm start`'s launcher, built once into .next-bench), typed client;
// - raw-sql-32/64: a bare FOR UPDATE SKIP LOCKED claim (one UPDATE) and a
//   one-UPDATE completion on a copy of the tasks table;
// - pgboss-32/64: pg-boss fetching and completing the same number of jobs;
// - batched-32: claimTasks with count 10, each task then completed;
// - killed-agents: a quarter of the agents stop mid-task (10 s leases, the
//   lease sweeper running here every 5 s besides the claims' own reclaim);
//   every task they held must be claimable again within TTL plus one sweep;
// - two-instances: two consoles on one database, agents split across them.
// Double claims are counted from append-only claim logs: task_leases for
// the product, bench_claim_log for the baselines. A profile of one serial
// claim closes the run (statements, the candidate query's plan). Prints
// JSON; progress goes to stderr.

const { values: flags } = parseArgs({
  options: {
    tasks: { type: "string" },
    seconds: { type: "string" },
    quick: { type: "boolean", default: false },
    only: { type: "string" },
  },
});
// stdout carries the result alone; the product's own warnings (such as
// escalations for abandoned tasks) would land in the middle of it.
if (!process.env.LOG_LEVEL) logger.level = "error";
const quick = flags.quick ?? false;
const taskCount = Number(flags.tasks ?? (quick ? 2_000 : 20_000));
// A scenario stops when its queue is empty or after this long, whichever
// comes first ("drained" says which), so a slow path cannot stretch the run.
const limitSeconds = Number(flags.seconds ?? (quick ? 15 : 45));
const only = flags.only ? new Set(flags.only.split(",")) : null;
// One pool size for every in-process path (product, raw SQL, pg-boss), so
// they queue for connections alike; a console uses its own default pool.
const POOL = 16;
const KILL_TTL_SECONDS = 10;
const SWEEP_INTERVAL_MS = 5_000;
const BATCH = 10;

const scenarioNames = [
  "inprocess-32",
  "inprocess-64",
  "http-32",
  "http-64",
  "raw-sql-32",
  "raw-sql-64",
  "pgboss-32",
  "pgboss-64",
  "batched-32",
  "killed-agents",
  "two-instances",
];

function log(line: string) {
  console.error(`[bench:claims] ${line}`);
}

function wanted(name: string): boolean {
  return !only || only.has(name);
}

interface Claimed {
  taskId: string;
  leaseId: string;
}

// --- The product, in this process ---

function productDriver(
  db: Database,
  actor: AgentActor,
  batch?: number,
): AgentDriver<Claimed> {
  return {
    async claim() {
      if (batch) {
        const result = await claimTasks(db, actor, { count: batch });

        return result.claimed.map((c) => ({
          taskId: c.task.id,
          leaseId: c.lease.id,
        }));
      }
      const claimed = await claimNextTask(db, actor);

      return claimed
        ? [{ taskId: claimed.task.id, leaseId: claimed.lease.id }]
        : [];
    },
    async complete(task) {
      await completeTask(db, actor, { ...task, result: "done" });
    },
  };
}

async function inProcess(
  db: Database,
  name: string,
  agents: number,
  batch?: number,
): Promise<ScenarioResult> {
  const fleet = await makeFleet(db, `bench-${name}`, agents);
  await seedTasks(db, fleet, taskCount);
  const stats = await runAgents(
    fleet.agents.map((a) => productDriver(db, a.actor, batch)),
    limitSeconds,
  );

  return productResult(db, fleet.projectId, agents, stats);
}

async function productResult(
  db: Database,
  projectId: string,
  agents: number,
  stats: RunStats,
  extra: Record<string, unknown> = {},
): Promise<ScenarioResult> {
  const log = await productDoubleClaims(db, projectId);
  // The next scenario starts from a tasks table of the same size.
  await db.execute(sql`delete from tasks where project_id = ${projectId}`);
  await db.execute(sql`vacuum analyze tasks, task_leases, task_transitions`);

  return {
    ...summarize(agents, stats, log.doubleClaims),
    leases: log.leases,
    tasksDone: log.done,
    ...extra,
  };
}

// --- The product over HTTP ---

function httpDriver(url: string, token: string): AgentDriver<Claimed> {
  const client = new FlotillaClient({ url, token });

  return {
    async claim() {
      const claimed = await client.claim();

      return claimed?.task
        ? [{ taskId: claimed.task.id, leaseId: claimed.lease.id }]
        : [];
    },
    async complete(task) {
      await client.complete(task.taskId, {
        leaseId: task.leaseId,
        result: "done",
      });
    },
  };
}

async function overHttp(
  db: Database,
  name: string,
  agents: number,
  servers: ConsoleServer[],
): Promise<ScenarioResult> {
  const fleet = await makeFleet(db, `bench-${name}`, agents);
  await seedTasks(db, fleet, taskCount);
  const stats = await runAgents(
    fleet.agents.map((a, i) =>
      httpDriver(servers[i % servers.length].url, a.secret),
    ),
    limitSeconds,
  );

  return productResult(db, fleet.projectId, agents, stats, {
    instances: servers.length,
  });
}

// --- Baseline: bare SQL on a copy of the tasks table ---

async function rawSql(
  db: Database,
  url: string,
  name: string,
  agents: number,
): Promise<ScenarioResult> {
  await db.execute(sql`create table if not exists bench_raw_tasks
    (like tasks including defaults including indexes)`);
  await db.execute(sql`truncate bench_raw_tasks`);
  const projectId = newId();
  const at = new Date().toISOString();
  await db.execute(sql`
    insert into bench_raw_tasks (id, project_id, goal_id, title, priority,
      scope, scope_roots, status, created_at, updated_at)
    select gen_random_uuid(), ${projectId}::uuid, gen_random_uuid(),
      'Benchmark task ' || n, (n * 7919) % 100,
      array['bench/task-' || n || '/**'], array['bench/task-' || n], 'ready',
      ${at}::timestamptz + n * interval '1 microsecond',
      ${at}::timestamptz + n * interval '1 microsecond'
    from generate_series(1, ${taskCount}::int) as n`);
  await db.execute(sql`analyze bench_raw_tasks`);
  const client = postgres(url, { max: POOL, onnotice: () => {} });
  const claimLog: LoggedClaim[] = [];
  try {
    const drivers = Array.from({ length: agents }, (_, agent) => {
      const agentId = newId();
      const open = new Map<string, LoggedClaim>();
      const driver: AgentDriver<Claimed> = {
        async claim() {
          const claimedAt = new Date();
          const rows = await client<{ id: string; lease_id: string }[]>`
            update bench_raw_tasks set status = 'claimed',
              holder_agent_id = ${agentId}, lease_id = gen_random_uuid(),
              lease_expires_at = now() + interval '300 seconds',
              lease_version = lease_version + 1, attempts = attempts + 1,
              updated_at = now()
            where id = (
              select id from bench_raw_tasks
              where project_id = ${projectId} and status = 'ready'
              order by priority desc, created_at asc, id asc
              limit 1 for update skip locked)
            returning id, lease_id`;
          for (const row of rows) {
            const entry = { taskId: row.id, agent, claimedAt, endedAt: null };
            open.set(row.id, entry);
            claimLog.push(entry);
          }

          return rows.map((row) => ({ taskId: row.id, leaseId: row.lease_id }));
        },
        async complete(task) {
          const done = await client`
            update bench_raw_tasks set status = 'done', result = 'done',
              holder_agent_id = null, lease_id = null,
              lease_expires_at = null, completed_at = now(),
              updated_at = now()
            where id = ${task.taskId} and lease_id = ${task.leaseId}
              and status = 'claimed'`;
          if (done.count !== 1) throw new Error("raw completion lost its row");
          open.get(task.taskId)!.endedAt = new Date();
        },
      };

      return driver;
    });
    const stats = await runAgents(drivers, limitSeconds);
    const doubleClaims = await baselineDoubleClaims(db, name, claimLog);

    return summarize(agents, stats, doubleClaims);
  } finally {
    await client.end({ timeout: 5 });
  }
}

// --- Baseline: pg-boss ---

async function pgBoss(
  db: Database,
  url: string,
  name: string,
  agents: number,
): Promise<ScenarioResult> {
  const boss = new PgBoss({
    connectionString: url,
    max: POOL,
    supervise: false,
    schedule: false,
  });
  const bossErrors: string[] = [];
  boss.on("error", (error) => bossErrors.push(String(error)));
  await boss.start();
  const queue = name;
  const claimLog: LoggedClaim[] = [];
  try {
    await boss.createQueue(queue);
    for (let from = 0; from < taskCount; from += 1000) {
      const jobs: PgBoss.JobInsert[] = [];
      for (let n = from + 1; n <= Math.min(taskCount, from + 1000); n += 1) {
        jobs.push({
          name: queue,
          priority: (n * 7919) % 100,
          data: { title: `Benchmark task ${n}`, scope: [`bench/task-${n}/**`] },
        });
      }
      await boss.insert(jobs);
    }
    await db.execute(sql`analyze pgboss.job`);
    const drivers = Array.from({ length: agents }, (_, agent) => {
      const open = new Map<string, LoggedClaim>();
      const driver: AgentDriver<Claimed> = {
        async claim() {
          const claimedAt = new Date();
          const jobs = await boss.fetch(queue);
          for (const job of jobs) {
            const entry = { taskId: job.id, agent, claimedAt, endedAt: null };
            open.set(job.id, entry);
            claimLog.push(entry);
          }

          return jobs.map((job) => ({ taskId: job.id, leaseId: job.id }));
        },
        async complete(task) {
          await boss.complete(queue, task.taskId);
          open.get(task.taskId)!.endedAt = new Date();
        },
      };

      return driver;
    });
    const stats = await runAgents(drivers, limitSeconds);
    const doubleClaims = await baselineDoubleClaims(db, name, claimLog);
    for (const error of bossErrors) noteError(stats, error);

    return summarize(agents, stats, doubleClaims);
  } finally {
    await boss.stop({ graceful: false, close: true, wait: true });
  }
}

// --- Agents killed mid-task ---

interface Killed {
  taskId: string;
  leaseId: string;
  claimedAt: number;
  expiresAt: number;
  reclaimedAt: number | null;
}

/**
 * 32 agents on 10-second leases. Agent k of the first 8 dies holding the
 * first task it claims after 1 + k/2 seconds: it never heartbeats or
 * completes. The others keep claiming and completing until the time limit
 * has passed and every abandoned task is free again. A watcher notes when
 * each abandoned task stops being held by its dead lease. The lease sweeper
 * runs here every 5 seconds, as in the console; a claim also takes over a
 * lapsed lease by itself, so both paths are on.
 */
async function killedAgents(db: Database): Promise<ScenarioResult> {
  const agents = 32;
  const victims = 8;
  const fleet = await makeFleet(db, "bench-killed-agents", agents);
  await seedTasks(db, fleet, taskCount);
  const sweeper = startLeaseSweeper({
    database: async () => db,
    intervalMs: SWEEP_INTERVAL_MS,
    onError: (error) => log(`sweep failed: ${String(error)}`),
  });
  const boundMs = KILL_TTL_SECONDS * 1000 + SWEEP_INTERVAL_MS;
  const killed: Killed[] = [];
  const stats = emptyStats();
  let victimsLeft = victims;
  let lastDeath: number | null = null;
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const allBack = () =>
    victimsLeft === 0 && killed.every((k) => k.reclaimedAt !== null);
  const giveUp = () =>
    (lastDeath !== null && performance.now() - lastDeath > 3 * boundMs) ||
    elapsed() > limitSeconds * 1000 + 120_000;
  const finished = () =>
    (elapsed() >= limitSeconds * 1000 && allBack()) || giveUp();

  const agent = async (index: number) => {
    const { actor } = fleet.agents[index];
    const victim = index < victims;
    const dieAt = 1000 + 500 * index;
    while (!finished()) {
      const before = performance.now();
      let claimed;
      try {
        claimed = await claimNextTask(db, actor, {
          ttlSeconds: KILL_TTL_SECONDS,
        });
      } catch (error) {
        noteError(stats, error);
        continue;
      }
      if (!claimed) {
        if (victim) break;
        if (allBack()) {
          stats.drained = true;

          return;
        }
        // Nothing ready now; abandoned tasks come back after their lease.
        await sleep(200);
        continue;
      }
      stats.latencies.push(performance.now() - before);
      stats.claims += 1;
      if (victim && elapsed() >= dieAt) {
        const expiresAt = new Date(claimed.lease.expiresAt).getTime();
        killed.push({
          taskId: claimed.task.id,
          leaseId: claimed.lease.id,
          claimedAt: expiresAt - KILL_TTL_SECONDS * 1000,
          expiresAt,
          reclaimedAt: null,
        });
        lastDeath = performance.now();
        break;
      }
      try {
        await completeTask(db, actor, {
          taskId: claimed.task.id,
          leaseId: claimed.lease.id,
          result: "done",
        });
      } catch (error) {
        noteError(stats, error);
      }
    }
    if (victim) victimsLeft -= 1;
  };

  const watcher = async () => {
    while (!finished()) {
      const open = killed.filter((k) => k.reclaimedAt === null);
      if (open.length > 0) {
        const rows = await queryRows<{ id: string; lease_id: string | null }>(
          db,
          sql`select id, lease_id from tasks where id in (${sql.join(
            open.map((k) => sql`${k.taskId}::uuid`),
            sql`, `,
          )})`,
        );
        const seenAt = Date.now();
        for (const k of open) {
          const row = rows.find((r) => r.id === k.taskId);
          if (row && row.lease_id !== k.leaseId) k.reclaimedAt = seenAt;
        }
      }
      await sleep(100);
    }
  };

  try {
    await Promise.all([...fleet.agents.map((_, i) => agent(i)), watcher()]);
  } finally {
    await sweeper.stop();
  }
  stats.seconds = elapsed() / 1000;
  stats.claimCalls = stats.latencies.length;

  // How each abandoned task came back: the sweeper dates its "lease
  // expired" step when it sweeps, a claim taking over dates it at the
  // expiry itself.
  const returns =
    killed.length === 0
      ? []
      : await queryRows<{ task_id: string; at: Date | string }>(
          db,
          sql`select task_id, at from task_transitions
            where to_status = 'ready' and actor_type = 'system'
              and task_id in (${sql.join(
                killed.map((k) => sql`${k.taskId}::uuid`),
                sql`, `,
              )})`,
        );
  const reclaimedBy = { sweeper: 0, claim: 0 };
  for (const k of killed) {
    const back = returns.find(
      (r) => r.task_id === k.taskId && new Date(r.at).getTime() >= k.expiresAt,
    );
    if (!back) continue;
    if (new Date(back.at).getTime() === k.expiresAt) reclaimedBy.claim += 1;
    else reclaimedBy.sweeper += 1;
  }
  const delays = killed.map((k) =>
    k.reclaimedAt === null ? Infinity : k.reclaimedAt - k.claimedAt,
  );

  return productResult(db, fleet.projectId, agents, stats, {
    killedAgents: killed.length,
    ttlSeconds: KILL_TTL_SECONDS,
    sweepIntervalSeconds: SWEEP_INTERVAL_MS / 1000,
    reclaimBoundSeconds: boundMs / 1000,
    reclaimed: delays.filter((d) => d !== Infinity).length,
    maxReclaimSeconds:
      delays.length > 0 ? round(Math.max(...delays) / 1000) : null,
    reclaimedWithinBound:
      killed.length > 0 && delays.every((d) => d <= boundMs),
    reclaimedBy,
    reclaimPath:
      "lease sweeper in this process every 5 s, and claims taking over " +
      "lapsed leases; reclaimedBy says which returned each task",
  });
}

// --- Where an in-process claim spends its time ---

/**
 * One agent, one claim at a time, on a connection that counts statements:
 * round trips per claim and per completion, and the serial cost of the
 * pieces a claim is made of, timed alone.
 */
async function profile(url: string, db: Database) {
  let statements = 0;
  let captured: { text: string; params: unknown[] }[] | null = null;
  const client = postgres(url, {
    max: 1,
    onnotice: () => {},
    debug: (_connection, text, params) => {
      statements += 1;
      captured?.push({ text, params });
    },
  });
  const counted = drizzle({ client, schema }) as unknown as Database;
  const runs = quick ? 10 : 20;
  try {
    const fleet = await makeFleet(db, "bench-profile", 1);
    await seedTasks(db, fleet, taskCount);
    const { actor } = fleet.agents[0];
    const claimMs: number[] = [];
    const completeMs: number[] = [];
    let claimStatements = 0;
    let completeStatements = 0;
    let lastTaskId = "";
    for (let i = 0; i < runs; i += 1) {
      let before = statements;
      let started = performance.now();
      const claimed = await claimNextTask(counted, actor);
      claimMs.push(performance.now() - started);
      claimStatements += statements - before;
      if (!claimed) throw new Error("profile queue ran dry");
      lastTaskId = claimed.task.id;
      before = statements;
      started = performance.now();
      await completeTask(counted, actor, {
        taskId: claimed.task.id,
        leaseId: claimed.lease.id,
      });
      completeMs.push(performance.now() - started);
      completeStatements += statements - before;
    }
    // The statements of one more claim, and the plan of the one that
    // picks the candidates (run again, then rolled back).
    captured = [];
    await claimNextTask(counted, actor);
    const claimStatements1 = captured;
    captured = null;
    const picker = claimStatements1.find((q) => /skip locked/i.test(q.text));
    let pickerPlan: string[] = [];
    if (picker) {
      const explain = postgres(url, { max: 1, onnotice: () => {} });
      try {
        await explain
          .begin(async (tx) => {
            const rows = await tx.unsafe(
              `explain (analyze, costs off) ${picker.text}`,
              picker.params as never[],
            );
            pickerPlan = rows.map((row) => String(row["QUERY PLAN"]));
            throw new Error("roll back");
          })
          .catch(() => {});
      } finally {
        await explain.end({ timeout: 5 });
      }
    }
    const timeOf = async (work: () => Promise<unknown>) => {
      const samples: number[] = [];
      for (let i = 0; i < 100; i += 1) {
        const started = performance.now();
        await work();
        samples.push(performance.now() - started);
      }

      return round(percentile(samples, 50));
    };

    return {
      note:
        "serial, one agent, one connection; p50 milliseconds; the parts " +
        "are timed alone, not inside a claim",
      statementsPerClaim: round(claimStatements / runs),
      statementsPerComplete: round(completeStatements / runs),
      claimP50Ms: round(percentile(claimMs, 50)),
      completeP50Ms: round(percentile(completeMs, 50)),
      partsP50Ms: {
        assertAgentActive: await timeOf(() =>
          assertAgentActive(counted, actor.agentId),
        ),
        assertProjectActive: await timeOf(() =>
          assertProjectActive(counted, actor.projectId),
        ),
        claimLimits: await timeOf(() =>
          claimLimits(
            counted,
            {
              projectId: actor.projectId,
              agentId: actor.agentId,
              agentLimit: null,
            },
            new Date(),
          ),
        ),
        orchestrationSettingsFor: await timeOf(() =>
          orchestrationSettingsFor(counted, actor.projectId),
        ),
        loadTaskView: await timeOf(() => loadTaskView(counted, lastTaskId)),
        roundTrip: await timeOf(() => counted.execute(sql`select 1`)),
      },
      claimStatements: claimStatements1.map((q) =>
        q.text.replace(/\s+/g, " ").trim().slice(0, 90),
      ),
      candidatePlan: pickerPlan,
    };
  } finally {
    await client.end({ timeout: 5 });
  }
}

// --- The run ---

async function main() {
  if (!Number.isInteger(taskCount) || taskCount < 100) {
    throw new Error("--tasks must be a whole number of at least 100");
  }
  const httpWanted = ["http-32", "http-64", "two-instances"].some(wanted);
  const buildSeconds = httpWanted ? ensureBuild(log) : 0;
  const scratch = await openScratchDatabase(
    `flotilla_bench_claims_${process.pid}`,
  );
  const url = scratch.location;
  const pool = await openDatabase({
    url,
    maxConnections: POOL,
    migrate: false,
  });
  const { db } = pool;
  const servers: ConsoleServer[] = [];
  const scenarios: Record<string, ScenarioResult> = {};
  const runStarted = performance.now();
  const run = async (name: string, scenario: () => Promise<ScenarioResult>) => {
    if (!wanted(name)) return;
    log(`${name}: ${taskCount} tasks`);
    scenarios[name] = await scenario();
    const s = scenarios[name];
    log(
      `${name}: ${s.claims} claims, ${s.claimsPerSec}/s, p50 ${s.p50Ms} ms, ` +
        `p95 ${s.p95Ms} ms, ${s.doubleClaims} double claims`,
    );
  };

  try {
    await run("raw-sql-32", () => rawSql(db, url, "raw-sql-32", 32));
    await run("raw-sql-64", () => rawSql(db, url, "raw-sql-64", 64));
    await run("pgboss-32", () => pgBoss(db, url, "pgboss-32", 32));
    await run("pgboss-64", () => pgBoss(db, url, "pgboss-64", 64));
    await run("inprocess-32", () => inProcess(db, "inprocess-32", 32));
    await run("inprocess-64", () => inProcess(db, "inprocess-64", 64));
    await run("batched-32", () => inProcess(db, "batched-32", 32, BATCH));
    await run("killed-agents", () => killedAgents(db));
    if (httpWanted) {
      log("starting the console");
      servers.push(await startConsole(url));
    }
    await run("http-32", () => overHttp(db, "http-32", 32, servers));
    await run("http-64", () => overHttp(db, "http-64", 64, servers));
    if (wanted("two-instances")) {
      log("starting a second console on the same database");
      servers.push(await startConsole(url));
      await run("two-instances", () =>
        overHttp(db, "two-instances", 32, servers),
      );
    }
    const profiled = wanted("profile") ? await profile(url, db) : undefined;

    const rate = (name: string) => scenarios[name]?.claimsPerSec;
    const ratio = (a: string, b: string) => {
      const top = rate(a);
      const bottom = rate(b);

      return top === undefined || !bottom
        ? null
        : Math.round((top / bottom) * 10_000) / 10_000;
    };
    const killed = scenarios["killed-agents"];
    const [server] = await queryRows<{ version: string }>(
      db,
      sql`select current_setting('server_version') as version`,
    );
    const ordered = Object.fromEntries(
      scenarioNames
        .filter((name) => scenarios[name])
        .map((name) => [name, scenarios[name]]),
    );
    console.log(
      JSON.stringify(
        {
          scenarios: ordered,
          ratioInprocessToRaw: ratio("inprocess-32", "raw-sql-32"),
          ratioInprocessToRaw64: ratio("inprocess-64", "raw-sql-64"),
          ratioInprocessToPgBoss: ratio("inprocess-32", "pgboss-32"),
          ratioInprocessToPgBoss64: ratio("inprocess-64", "pgboss-64"),
          ratioHttpToRaw: ratio("http-32", "raw-sql-32"),
          ratioHttpToRaw64: ratio("http-64", "raw-sql-64"),
          ratioBatchedToSingle: ratio("batched-32", "inprocess-32"),
          reclaimedWithinTtl: killed
            ? (killed.reclaimedWithinBound as boolean)
            : null,
          doubleClaimsTotal: Object.values(scenarios).reduce(
            (sum, s) => sum + s.doubleClaims,
            0,
          ),
          database: `PostgreSQL ${server.version}`,
          tasks: taskCount,
          pool: POOL,
          buildSeconds: round(buildSeconds),
          runSeconds: round((performance.now() - runStarted) / 1000),
          ...(profiled ? { profile: profiled } : {}),
        },
        null,
        2,
      ),
    );
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    stopAllConsoles();
    await pool.close();
    await scratch.close();
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    stopAllConsoles();
    process.exit(130);
  });
}

main().catch((error: unknown) => {
  stopAllConsoles();
  console.error(error);
  process.exitCode = 1;
});
