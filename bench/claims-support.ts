import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import { queryRows, type Database } from "@/db/client";
import type { Actor } from "@/server/identity/actor";
import { createAgent } from "@/server/identity/agents";
import { createProject } from "@/server/identity/projects";
import { createGoal } from "@/server/orchestration";
import { transitionBy } from "@/server/orchestration/states";
import { percentile } from "@/server/observability/bench";

// The parts of bench/claims.ts that are not scenarios: seeding a queue of
// ready tasks, counting double claims in a claim log, the agent loop and
// its statistics, and building and serving the console for the HTTP runs.

export type AgentActor = Extract<Actor, { kind: "agent" }>;

export const benchActor: Actor = { kind: "cli", label: "cli:bench-claims" };

export interface Fleet {
  projectId: string;
  goalId: string;
  agents: { actor: AgentActor; secret: string }[];
}

/** A project with one goal and `agents` agents (each with a token), made
 * through the same domain functions the console and CLI use. */
export async function makeFleet(
  db: Database,
  slug: string,
  agents: number,
): Promise<Fleet> {
  const project = await createProject(db, benchActor, { slug });
  const goal = await createGoal(db, benchActor, {
    project: slug,
    title: `Benchmark queue ${slug}`,
    requiresPlanApproval: false,
  });
  const made: Fleet["agents"] = [];
  for (let a = 0; a < agents; a += 1) {
    const { agent, secret, token } = await createAgent(db, benchActor, {
      project: slug,
      name: `agent-${a + 1}`,
    });
    made.push({
      secret,
      actor: {
        kind: "agent",
        agentId: agent.id,
        agentName: agent.name,
        projectId: project.id,
        tokenId: token.id,
      },
    });
  }

  return { projectId: project.id, goalId: goal.id, agents: made };
}

/**
 * Fills the goal with `count` ready tasks in two statements: the rows
 * createTask would write (a distinct scope `bench/task-<n>/**` each,
 * priorities spread over 0..99, creation one microsecond apart) and their
 * first history row. Going through createTask one by one would take longer
 * than the runs it feeds.
 */
export async function seedTasks(db: Database, fleet: Fleet, count: number) {
  const by = transitionBy(benchActor);
  const at = new Date().toISOString();
  await db.execute(sql`
    insert into tasks (id, project_id, goal_id, title, priority, scope,
      scope_roots, status, created_by, created_at, updated_at)
    select gen_random_uuid(), ${fleet.projectId}::uuid, ${fleet.goalId}::uuid,
      'Benchmark task ' || n, (n * 7919) % 100,
      array['bench/task-' || n || '/**'], array['bench/task-' || n], 'ready',
      ${by.label}, ${at}::timestamptz + n * interval '1 microsecond',
      ${at}::timestamptz + n * interval '1 microsecond'
    from generate_series(1, ${count}::int) as n`);
  await db.execute(sql`
    insert into task_transitions (task_id, from_status, to_status,
      actor_type, actor_id, actor_label, reason, at)
    select id, null, 'ready', ${by.type}, ${by.id}, ${by.label}, 'created',
      created_at
    from tasks where goal_id = ${fleet.goalId}`);
  await db.execute(sql`analyze tasks`);
  await db.execute(sql`analyze task_transitions`);
}

/** Double claims of a project: pairs of leases on one task where the later
 * was taken before the earlier had ended or expired. task_leases gets one
 * row per claim and is never rewritten except to close a lease. */
export async function productDoubleClaims(
  db: Database,
  projectId: string,
): Promise<{ doubleClaims: number; leases: number; done: number }> {
  const [row] = await queryRows<{
    double_claims: string;
    leases: string;
    done: string;
  }>(
    db,
    sql`
      select
        (select count(*) from task_leases a
          join task_leases b on b.task_id = a.task_id
            and (a.claimed_at, a.lease_id) < (b.claimed_at, b.lease_id)
            and b.claimed_at < least(a.ended_at, a.expires_at)
          join tasks t on t.id = a.task_id
          where t.project_id = ${projectId}) as double_claims,
        (select count(*) from task_leases l join tasks t on t.id = l.task_id
          where t.project_id = ${projectId}) as leases,
        (select count(*) from tasks
          where project_id = ${projectId} and status = 'done') as done`,
  );

  return {
    doubleClaims: Number(row.double_claims),
    leases: Number(row.leases),
    done: Number(row.done),
  };
}

/** One claim as a baseline agent saw it, for the baselines' claim log. */
export interface LoggedClaim {
  taskId: string;
  agent: number;
  claimedAt: Date;
  endedAt: Date | null;
}

/**
 * Appends a baseline run's claims to bench_claim_log (append-only: rows are
 * only ever inserted) and counts the double claims in it, as for the
 * product. The rows are written after the run so that logging costs the
 * baselines nothing while they are timed.
 */
export async function baselineDoubleClaims(
  db: Database,
  scenario: string,
  claims: LoggedClaim[],
): Promise<number> {
  await db.execute(sql`
    create table if not exists bench_claim_log (
      id bigserial primary key,
      scenario text not null,
      task_id text not null,
      agent integer not null,
      claimed_at timestamptz not null,
      ended_at timestamptz
    )`);
  for (let i = 0; i < claims.length; i += 2000) {
    const chunk = claims.slice(i, i + 2000);
    const rows = sql.join(
      chunk.map(
        (c) =>
          sql`(${scenario}, ${c.taskId}, ${c.agent},
            ${c.claimedAt.toISOString()}::timestamptz,
            ${c.endedAt?.toISOString() ?? null}::timestamptz)`,
      ),
      sql`, `,
    );
    await db.execute(sql`insert into bench_claim_log
      (scenario, task_id, agent, claimed_at, ended_at) values ${rows}`);
  }
  const [row] = await queryRows<{ n: string }>(
    db,
    sql`select count(*) as n from bench_claim_log a
      join bench_claim_log b on b.scenario = a.scenario
        and b.task_id = a.task_id and a.id <> b.id
        and (a.claimed_at, a.id) < (b.claimed_at, b.id)
        and b.claimed_at <= coalesce(a.ended_at, 'infinity')
      where a.scenario = ${scenario}`,
  );

  return Number(row.n);
}

/** What one agent does: claim some tasks (none: the queue looks empty),
 * then finish one of them. */
export interface AgentDriver<T> {
  claim(): Promise<T[]>;
  complete(task: T): Promise<void>;
}

export interface RunStats {
  claims: number;
  claimCalls: number;
  latencies: number[];
  seconds: number;
  errors: number;
  firstError: string | null;
  /** Whether the queue ran empty before the time limit. */
  drained: boolean;
}

export function emptyStats(): RunStats {
  return {
    claims: 0,
    claimCalls: 0,
    latencies: [],
    seconds: 0,
    errors: 0,
    firstError: null,
    drained: false,
  };
}

/** Runs every agent until its claim comes back empty or `limitSeconds`
 * have passed; every claimed task is completed before the next claim. */
export async function runAgents<T>(
  drivers: AgentDriver<T>[],
  limitSeconds: number,
): Promise<RunStats> {
  const stats = emptyStats();
  const started = performance.now();
  const limitAt = started + limitSeconds * 1000;
  await Promise.all(
    drivers.map(async (driver) => {
      while (performance.now() < limitAt) {
        const before = performance.now();
        let got: T[];
        try {
          got = await driver.claim();
        } catch (error) {
          noteError(stats, error);
          if (stats.errors > 50) return;
          continue;
        }
        stats.latencies.push(performance.now() - before);
        stats.claimCalls += 1;
        if (got.length === 0) {
          stats.drained = true;

          return;
        }
        stats.claims += got.length;
        for (const task of got) {
          try {
            await driver.complete(task);
          } catch (error) {
            noteError(stats, error);
          }
        }
      }
    }),
  );
  stats.seconds = (performance.now() - started) / 1000;

  return stats;
}

export function noteError(stats: RunStats, error: unknown) {
  stats.errors += 1;
  stats.firstError ??= error instanceof Error ? error.message : String(error);
}

export interface ScenarioResult {
  agents: number;
  claims: number;
  claimsPerSec: number;
  p50Ms: number;
  p95Ms: number;
  doubleClaims: number;
  seconds: number;
  errors: number;
  [more: string]: unknown;
}

export function summarize(
  agents: number,
  stats: RunStats,
  doubleClaims: number,
): ScenarioResult {
  return {
    agents,
    claims: stats.claims,
    claimsPerSec: round(stats.claims / Math.max(stats.seconds, 0.001)),
    p50Ms: round(percentile(stats.latencies, 50) ?? 0),
    p95Ms: round(percentile(stats.latencies, 95) ?? 0),
    doubleClaims,
    seconds: round(stats.seconds),
    drained: stats.drained,
    errors: stats.errors,
    ...(stats.firstError ? { firstError: stats.firstError } : {}),
  };
}

export function round(value: number): number {
  return Math.round(value * 100) / 100;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// --- The console, built once into its own directory and served twice ---

const root = path.resolve(import.meta.dirname, "..");
export const distDir = ".next-bench";
const sourceDirs = [
  "app",
  "components",
  "server",
  "db",
  "package.json",
  "next.config.ts",
];

function newestMtime(target: string): number {
  const full = path.join(root, target);
  if (!fs.existsSync(full)) return 0;
  const stat = fs.statSync(full);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of fs.readdirSync(full)) {
    newest = Math.max(newest, newestMtime(path.join(target, entry)));
  }

  return newest;
}

/** Builds the console into .next-bench unless that build is newer than
 * every source; returns the seconds spent (0 when the build was reused). */
export function ensureBuild(log: (line: string) => void): number {
  const buildId = path.join(root, distDir, "BUILD_ID");
  const builtAt = fs.existsSync(buildId) ? fs.statSync(buildId).mtimeMs : 0;
  if (builtAt >= Math.max(...sourceDirs.map(newestMtime))) return 0;
  log(`building the console into ${distDir} (once; reused while unchanged)`);
  const started = performance.now();
  // next build adds its own dist dir's types to these files; the tree is
  // left as it was found.
  const kept = ["tsconfig.json", "next-env.d.ts"].map((name) => {
    const file = path.join(root, name);

    return {
      file,
      text: fs.existsSync(file) ? fs.readFileSync(file, "utf8") : null,
    };
  });
  const build = spawnSync(
    process.execPath,
    [path.join(root, "node_modules", "next", "dist", "bin", "next"), "build"],
    {
      cwd: root,
      stdio: ["ignore", "ignore", "inherit"],
      env: {
        ...process.env,
        FLOTILLA_NEXT_DIST_DIR: distDir,
        NEXT_TELEMETRY_DISABLED: "1",
      },
    },
  );
  for (const { file, text } of kept) {
    if (text === null) fs.rmSync(file, { force: true });
    else if (fs.readFileSync(file, "utf8") !== text) {
      fs.writeFileSync(file, text);
    }
  }
  if (build.status !== 0) {
    throw new Error(`next build failed (exit ${build.status ?? "signal"})`);
  }

  return (performance.now() - started) / 1000;
}

export interface ConsoleServer {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();

/** Starts the built console with `npm start`'s launcher on a free loopback
 * port against `databaseUrl`, and waits until /api/health answers 200. */
export async function startConsole(
  databaseUrl: string,
): Promise<ConsoleServer> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-bench-"));
  const child = spawn(
    process.execPath,
    [path.join(root, "scripts", "start.mjs"), "-H", "127.0.0.1"],
    {
      cwd: root,
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        PORT: String(port),
        FLOTILLA_NEXT_DIST_DIR: distDir,
        FLOTILLA_DATA_DIR: path.join(dataDir, "data"),
        FLOTILLA_BASE_URL: `http://127.0.0.1:${port}`,
        BETTER_AUTH_SECRET: crypto.randomBytes(32).toString("base64url"),
        NEXT_TELEMETRY_DISABLED: "1",
      },
    },
  );
  running.add(child);
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (!running.delete(child)) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      // The launcher and the server it spawned share a process group.
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      return;
    }
    const timeout = sleep(5000).then(() => "timeout");
    if ((await Promise.race([exited, timeout])) === "timeout") {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const response = await fetch(`${url}/api/health`);
      if (response.ok) return { url, stop };
    } catch {
      // Not listening yet.
    }
    await sleep(250);
  }
  await stop();
  throw new Error(`The console on ${url} did not become healthy:\n${stderr}`);
}

/** Stops every console still running (on the way out, also after an
 * error). */
export function stopAllConsoles() {
  for (const child of running) {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  running.clear();
}
