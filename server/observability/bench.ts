import http from "node:http";
import type { AddressInfo } from "node:net";
import postgres from "postgres";
import { sql } from "drizzle-orm";
import { openDatabase, type Database, type DatabaseHandle } from "@/db/client";
import { agentSessions, goals, tasks } from "@/db/schema";
import { newId, now } from "@/server/runtime";
import { ensureEventPartitions } from "./partitions";

// Shared by bench/spend.ts and bench/ingest.ts: a scratch PostgreSQL
// database on a local server, and the fast seeding path for spend (also
// usable to fill a demo project with months of spend).

const localHosts = ["localhost", "127.0.0.1", "::1", "[::1]", ""];

/** Creates a fresh database next to DATABASE_URL's (local servers only),
 * migrated; close() drops it. */
export async function openScratchDatabase(
  prefix: string,
): Promise<DatabaseHandle> {
  const configured = process.env.DATABASE_URL;
  if (!configured?.startsWith("postgres")) {
    throw new Error(
      "Set DATABASE_URL to a local PostgreSQL server, e.g. " +
        "postgres://postgres@127.0.0.1:5432/postgres",
    );
  }
  const server = new URL(configured);
  if (!localHosts.includes(server.hostname)) {
    throw new Error(
      `Refusing to benchmark against ${server.hostname}: the benchmark ` +
        "creates and drops a database, so DATABASE_URL must be local",
    );
  }
  const name = `${prefix}_${newId().replaceAll("-", "").slice(0, 12)}`;
  const adminUrl = new URL(server);
  adminUrl.pathname = "/postgres";
  const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  let handle: DatabaseHandle;
  try {
    handle = await openDatabase({ url: url.toString(), maxConnections: 8 });
  } catch (error) {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
    throw error;
  }

  return {
    ...handle,
    location: url.toString(),
    async close() {
      await handle.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;

  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

export interface SpendSeed {
  projectId: string;
  agentIds: string[];
  events: number;
  days: number;
  /** Exclusive end of the seeded period; events spread evenly before it. */
  end: Date;
}

const SEED_CHUNK = 250_000;

/** Writes `events` priced events over `days` days straight in SQL, and
 * their hourly rollups from them, so both agree exactly as ingest keeps
 * them. Each agent works one task per four hours on rotating models;
 * one event in fifty names an unknown model and is unpriced. Rows are
 * outside any hash chain (chain columns null), as for imported data. */
export async function seedSpend(db: Database, seed: SpendSeed) {
  const at = now();
  // Each run's keys and session ids are its own, so a project can be
  // seeded more than once.
  const run = newId().slice(0, 8);
  const start = new Date(seed.end.getTime() - seed.days * 86_400_000);
  const goalIds: string[] = [];
  const taskIds: string[] = [];
  for (let g = 0; g < 4; g += 1) {
    const goalId = newId();
    goalIds.push(goalId);
    await db.insert(goals).values({
      id: goalId,
      projectId: seed.projectId,
      title: `Seeded goal ${g + 1}`,
      createdAt: start,
      updatedAt: at,
    });
    for (let t = 0; t < 5; t += 1) {
      const taskId = newId();
      taskIds.push(taskId);
      await db.insert(tasks).values({
        id: taskId,
        projectId: seed.projectId,
        goalId,
        title: `Seeded task ${g + 1}.${t + 1}`,
        status: "done",
        createdAt: start,
        updatedAt: at,
        // Their spend runs to the end of the period; they finish there,
        // an hour apart.
        completedAt: new Date(seed.end.getTime() - (g * 5 + t + 1) * 3_600_000),
      });
    }
  }
  // One session per agent and day.
  const sessionIds: string[][] = seed.agentIds.map(() => []);
  const sessionRows: (typeof agentSessions.$inferInsert)[] = [];
  for (const [a, agentId] of seed.agentIds.entries()) {
    for (let d = 0; d < seed.days; d += 1) {
      const id = newId();
      sessionIds[a].push(id);
      const day = new Date(start.getTime() + d * 86_400_000);
      sessionRows.push({
        id,
        projectId: seed.projectId,
        agentId,
        externalId: `seed-${run}-${a + 1}-${d + 1}`,
        source: "seed",
        startedAt: day,
        lastEventAt: day,
      });
    }
  }
  for (let i = 0; i < sessionRows.length; i += 500) {
    await db.insert(agentSessions).values(sessionRows.slice(i, i + 500));
  }

  const agentsArray = sql`${`{${seed.agentIds.join(",")}}`}::uuid[]`;
  const tasksArray = sql`${`{${taskIds.join(",")}}`}::uuid[]`;
  const sessionsArray = sql`${`{${sessionIds
    .map((ids) => `{${ids.join(",")}}`)
    .join(",")}}`}::uuid[]`;
  const span = seed.end.getTime() - start.getTime();
  const runSessions = sql`${`{${sessionIds.flat().join(",")}}`}::uuid[]`;
  const months: Date[] = [];
  for (let at = start.getTime(); at < seed.end.getTime(); at += 86_400_000) {
    months.push(new Date(at));
  }
  await ensureEventPartitions(db, [...months, seed.end]);
  for (let from = 0; from < seed.events; from += SEED_CHUNK) {
    const to = Math.min(seed.events, from + SEED_CHUNK) - 1;
    await db.execute(sql`
      insert into events (id, project_id, session_id, agent_id, task_id,
        goal_id, event_key, source, type, name, status, occurred_at, model,
        provider, input_tokens, output_tokens, cache_read_tokens,
        cache_write_5m_tokens, cache_write_1h_tokens, cost_usd, cost_source,
        received_at)
      select gen_random_uuid(), ${seed.projectId}::uuid,
        (${sessionsArray})[p.a + 1][q.d + 1], (${agentsArray})[p.a + 1],
        r.task, tk.goal_id, ${`seed-${run}-`} || i, 'seed', 'llm_call', 'model call',
        'ok', q.t, q.model, 'seed', r.inp, r.outp, r.cread, r.cwrite, 0,
        case when q.model = 'unknown-model' then null
          else round((r.inp * 3 + r.outp * 15 + r.cread * 0.3
            + r.cwrite * 3.75) / 1000000.0, 8) end,
        case when q.model = 'unknown-model' then 'unpriced'
          else 'computed' end,
        q.t
      from generate_series(${from}::bigint, ${to}::bigint) as i
      cross join lateral (
        select (i % ${seed.agentIds.length}::int)::int as a,
          i::float8 * ${span}::float8 / ${seed.events}::float8 as ms
      ) p
      cross join lateral (
        select ${start.toISOString()}::timestamptz
            + p.ms * interval '1 millisecond' as t,
          floor(p.ms / 3600000)::int as h,
          floor(p.ms / 86400000)::int as d,
          case when i % 50 = 0 then 'unknown-model'
            else (array['claude-sonnet-4-5', 'claude-haiku-4-5', 'gpt-4.1',
              'gemini-2.5-pro'])[(1 + (i / 7) % 4)::int] end as model
      ) q
      cross join lateral (
        -- A task per agent and four hours; one slot in five has none.
        select case when (p.a + q.h / 4) % 5 = 0 then null
            else (${tasksArray})[1 + (p.a * 7 + q.h / 4) % ${taskIds.length}::int]
            end as task,
          200 + i % 4000 as inp, 50 + i % 900 as outp,
          (i % 3) * 2000 as cread, (i % 5) * 100 as cwrite
      ) r
      left join tasks tk on tk.id = r.task`);
  }
  await db.execute(sql`
    insert into spend_hourly (project_id, hour, agent_id, model, goal_id,
      task_id, cost_usd, priced_calls, calls, unpriced_calls, input_tokens,
      output_tokens, cache_read_tokens, cache_write_tokens)
    select project_id, date_trunc('hour', occurred_at), agent_id, model,
      goal_id, task_id, coalesce(sum(cost_usd), 0), count(cost_usd),
      count(*), count(*) filter (where cost_source = 'unpriced'),
      coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),
      coalesce(sum(cache_read_tokens), 0),
      coalesce(sum(coalesce(cache_write_5m_tokens, 0)
        + coalesce(cache_write_1h_tokens, 0)), 0)
    from events
    where project_id = ${seed.projectId}
      and session_id = any(${runSessions})
    group by project_id, date_trunc('hour', occurred_at), agent_id, model,
      goal_id, task_id
    on conflict on constraint spend_hourly_key do update set
      cost_usd = spend_hourly.cost_usd + excluded.cost_usd,
      priced_calls = spend_hourly.priced_calls + excluded.priced_calls,
      calls = spend_hourly.calls + excluded.calls,
      unpriced_calls = spend_hourly.unpriced_calls + excluded.unpriced_calls,
      input_tokens = spend_hourly.input_tokens + excluded.input_tokens,
      output_tokens = spend_hourly.output_tokens + excluded.output_tokens,
      cache_read_tokens = spend_hourly.cache_read_tokens
        + excluded.cache_read_tokens,
      cache_write_tokens = spend_hourly.cache_write_tokens
        + excluded.cache_write_tokens`);
  // As ingest would have: every key claimed (a replay stores nothing),
  // and session totals equal to the sums of their events.
  await db.execute(sql`
    insert into event_keys (project_id, agent_id, event_key, event_id,
      occurred_at)
    select project_id, agent_id, event_key, id, occurred_at from events
    where project_id = ${seed.projectId}
      and session_id = any(${runSessions})`);
  await db.execute(sql`
    update agent_sessions s set
      event_count = t.n,
      cost_usd = t.cost,
      unpriced_count = t.unpriced,
      started_at = t.first,
      last_event_at = t.last
    from (
      select session_id, count(*) as n, coalesce(sum(cost_usd), 0) as cost,
        count(*) filter (where cost_source = 'unpriced') as unpriced,
        min(occurred_at) as first, max(occurred_at) as last
      from events
      where project_id = ${seed.projectId}
        and session_id = any(${runSessions})
      group by session_id
    ) t
    where s.id = t.session_id`);
  await db.execute(sql`analyze events`);
  await db.execute(sql`analyze spend_hourly`);
}

/** A Next.js route handler as app/ exports it. */
export type RouteHandler = (
  request: Request,
  context: { params: Promise<Record<string, string>> },
) => Promise<Response>;

export interface RouteServer {
  /** Base URL on loopback, e.g. http://127.0.0.1:40123 */
  url: string;
  close(): Promise<void>;
}

/** Serves one route handler over real HTTP on a free loopback port: each
 * request is read off the socket, turned into a fetch Request as Next.js
 * does, handed to the handler, and its Response written back. Measures
 * the handler's whole stack (auth, body parsing, validation, domain)
 * without a `next build`. */
export async function serveRouteHandler(
  handler: RouteHandler,
): Promise<RouteServer> {
  const server = http.createServer((incoming, outgoing) => {
    void relay(handler, incoming, outgoing);
  });
  // Clients keep connections alive between batches, as agents do.
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function relay(
  handler: RouteHandler,
  incoming: http.IncomingMessage,
  outgoing: http.ServerResponse,
) {
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [name, value] of Object.entries(incoming.headers)) {
      for (const one of Array.isArray(value) ? value : [value ?? ""]) {
        headers.append(name, one);
      }
    }
    const method = incoming.method ?? "GET";
    const request = new Request(
      new URL(incoming.url ?? "/", `http://${incoming.headers.host}`),
      {
        method,
        headers,
        body:
          method === "GET" || method === "HEAD"
            ? undefined
            : Buffer.concat(chunks),
      },
    );
    const response = await handler(request, { params: Promise.resolve({}) });
    const body = Buffer.from(await response.arrayBuffer());
    outgoing.writeHead(response.status, [...response.headers].flat());
    outgoing.end(body);
  } catch (error) {
    // The route maps every failure itself; reaching here is a fault of
    // this relay, answered as a 500 so a caller counts it.
    outgoing.writeHead(500, { "content-type": "text/plain" });
    outgoing.end(`relay failed: ${(error as Error).message}`);
  }
}

/** One native event as POST /api/agent/v1/events takes it. */
export interface BenchEvent {
  id: string;
  sessionId: string;
  type: "llm_call" | "tool_call";
  name: string;
  time: string;
  model?: string;
  toolName?: string;
  usage?: {
    inputTokens: number;
    outputTokens: number;
    cacheReadTokens: number;
  };
  input?: { command: string };
}

const benchModels = ["claude-sonnet-4-5", "claude-haiku-4-5", "gpt-4.1"];

/** `total` native events in batches of `batchSize`, one second apart from
 * 2026-11-01: two model calls (priced, three models) to each Bash tool
 * call; four consecutive batches share a session. `prefix` keeps the ids
 * (and session ids) of separate runs apart. */
export function nativeEventBatches(
  total: number,
  batchSize: number,
  prefix = "ev",
): BenchEvent[][] {
  const start = Date.UTC(2026, 10, 1);
  const batches: BenchEvent[][] = [];
  for (let b = 0; b * batchSize < total; b += 1) {
    const batch: BenchEvent[] = [];
    const end = Math.min(total, (b + 1) * batchSize);
    for (let i = b * batchSize; i < end; i += 1) {
      const sessionId = `${prefix}-session-${Math.floor(b / 4)}`;
      const time = new Date(start + i * 1000).toISOString();
      batch.push(
        i % 3 === 0
          ? {
              id: `${prefix}-${i}`,
              sessionId,
              type: "tool_call",
              name: "Bash",
              toolName: "Bash",
              time,
              input: { command: `npm test -- --shard ${i % 8}` },
            }
          : {
              id: `${prefix}-${i}`,
              sessionId,
              type: "llm_call",
              name: "model call",
              time,
              model: benchModels[i % benchModels.length],
              usage: {
                inputTokens: 500 + (i % 2000),
                outputTokens: 100 + (i % 700),
                cacheReadTokens: (i % 4) * 1500,
              },
            },
      );
    }
    batches.push(batch);
  }

  return batches;
}
