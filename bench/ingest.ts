import { performance } from "node:perf_hooks";
import { finished } from "node:stream/promises";
import postgres from "postgres";
import { sql } from "drizzle-orm";
import { queryRows, type Database } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { POST as postEvents } from "@/app/api/agent/v1/events/route";
import {
  nativeEventBatches,
  openScratchDatabase,
  percentile,
  serveRouteHandler,
  type BenchEvent,
} from "@/server/observability/bench";
import { ingestEvents } from "@/server/observability/ingest";
import { priceEvent } from "@/server/observability/prices";
import { makeAgent, makeProject } from "@/server/observability/testing";
import { logger } from "@/server/log";
import { newId } from "@/server/runtime";

// npm run bench:ingest: events per second into PostgreSQL in batches of
// 500, three ways, in one scratch database on the same server:
// - inprocess: ingestEvents (the function behind POST /api/agent/v1/events)
//   called batch after batch;
// - http: the production route handler (bearer auth, body reading, zod,
//   ingest) served by node:http on loopback, posted to with fetch by
//   HTTP_CLIENTS clients in parallel, each its own run of sessions;
// - baseline: each batch COPYed into a staging table, then inserted with
//   on conflict do nothing into a copy of the events table (same columns,
//   indexes and partitions, and a copy of event_keys when idempotency
//   lives there). No pricing beyond the cost column, no chain, no rollups;
//   and no foreign keys, which CREATE TABLE ... LIKE does not copy.
// First each way stores WARMUP_BATCHES batches of other events, untimed,
// so that compiling the code, preparing statements and making the month's
// partition count against none of them. Then the three take turns over
// five rounds. The HTTP clients run in the
// bench's own process, so they share its CPU with the server. Then the
// in-process batches again: a replay must store nothing. Prints JSON.
// EVENTS sets the size (default 50,000), HTTP_CLIENTS the clients (4).

const BATCH = 500;
const events = Number(process.env.EVENTS ?? 50_000);
const httpClients = Number(process.env.HTTP_CLIENTS ?? 4);
const ROUNDS = 5;
const WARMUP_BATCHES = 10;
const HTTP_SERVER = "node:http + route handler (app/api/agent/v1/events)";

async function storedEvents(db: Database): Promise<number> {
  const [row] = await queryRows<{ n: string }>(
    db,
    sql`select count(*) as n from events`,
  );

  return Number(row.n);
}

interface HttpRun {
  seconds: number;
  accepted: number;
  rateLimited: number;
  latenciesMs: number[];
}

/** Posts batches through the route handler over real HTTP: client c sends
 * its own contiguous share one batch at a time, as an agent does. */
async function postOverHttp(
  url: string,
  batches: BenchEvent[][],
  token: string,
  run: HttpRun,
) {
  const bodies = batches.map((batch) => JSON.stringify({ events: batch }));
  const share = Math.ceil(bodies.length / httpClients);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: httpClients }, async (_, client) => {
      for (const body of bodies.slice(client * share, (client + 1) * share)) {
        await postBatch(url, body, token, run);
      }
    }),
  );
  run.seconds += (performance.now() - started) / 1000;
}

async function postBatch(
  url: string,
  body: string,
  token: string,
  run: HttpRun,
) {
  for (;;) {
    const sent = performance.now();
    const response = await fetch(url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
      },
      body,
    });
    const answer = (await response.json()) as { accepted?: number };
    if (response.status === 429) {
      // The per-token limiter; honoured as a client would, and reported.
      run.rateLimited += 1;
      const wait = Number(response.headers.get("retry-after") ?? 1);
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      continue;
    }
    if (response.status !== 200) {
      throw new Error(
        `POST events answered ${response.status}: ${JSON.stringify(answer)}`,
      );
    }
    run.latenciesMs.push(performance.now() - sent);
    run.accepted += answer.accepted ?? 0;

    return;
  }
}

// COPY text format: tabs, newlines and backslashes escaped, \N for null.
function copyField(value: string | number | null): string {
  if (value === null) return "\\N";

  return String(value).replace(/[\\\t\n\r]/g, (c) =>
    c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r",
  );
}

const copyColumns = [
  "id",
  "project_id",
  "session_id",
  "agent_id",
  "event_key",
  "source",
  "type",
  "name",
  "status",
  "occurred_at",
  "tool_name",
  "model",
  "input_tokens",
  "output_tokens",
  "cache_read_tokens",
  "cost_usd",
  "cost_source",
  "input",
  "received_at",
];

type Client = postgres.Sql;

/** Makes baseline_events a copy of events as it is now: a plain table, or
 * a partitioned one with the same partition key. Returns the statement
 * that stores staging_events idempotently: on conflict do nothing on
 * events itself, or through a copy of event_keys when the key lives
 * there (events partitioned by time cannot hold it). */
async function copyEventsTable(
  client: Client,
): Promise<{ statement: string; shape: string }> {
  const [events] = await client<{ kind: string; key: string | null }[]>`
    select relkind as kind, pg_get_partkeydef(oid) as key
    from pg_class where oid = 'events'::regclass`;
  await client.unsafe(
    `create table baseline_events (like events including all)
     ${events.kind === "p" ? `partition by ${events.key}` : ""}`,
  );
  await client.unsafe(
    `create unlogged table staging_events (like events including defaults)`,
  );

  const [keys] = await client<{ exists: boolean }[]>`
    select to_regclass('event_keys') is not null as exists`;
  const table =
    events.kind === "p" ? `events partitioned by ${events.key}` : "events";
  if (!keys.exists) {
    return {
      statement: `insert into baseline_events select * from staging_events
                  on conflict do nothing`,
      shape: `${table}, on conflict on its unique key`,
    };
  }
  await client.unsafe(
    `create table baseline_event_keys (like event_keys including all)`,
  );
  // Each event_keys column is filled from the staged event column of the
  // same name; event_id is the event's id.
  const columns = await client<{ name: string }[]>`
    select attname as name from pg_attribute
    where attrelid = 'event_keys'::regclass and attnum > 0
      and not attisdropped order by attnum`;
  const names = columns.map((c) => `"${c.name}"`).join(", ");
  const values = columns
    .map((c) => (c.name === "event_id" ? "id" : `"${c.name}"`))
    .join(", ");

  return {
    statement: `with fresh as (
                  insert into baseline_event_keys (${names})
                  select ${values} from staging_events
                  on conflict do nothing
                  returning event_id)
                insert into baseline_events
                select s.* from staging_events s
                join fresh on fresh.event_id = s.id`,
    shape: `${table}, on conflict on a copy of event_keys`,
  };
}

/** Gives baseline_events a partition for each partition events has now
 * (ingest makes them on demand); outside the timed part. */
async function copyPartitions(client: Client) {
  await client.unsafe(`
    do $$
    declare part record;
    begin
      for part in
        select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
        from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'events'::regclass
          and to_regclass(quote_ident('baseline_' || c.relname)) is null
      loop
        execute format('create table %I partition of baseline_events %s',
          'baseline_' || part.name, part.bound);
      end loop;
    end $$`);
}

interface Baseline {
  /** Which events structure was copied, for the report. */
  shape: string;
  /** Stores the batches; returns the seconds it took. */
  store(batches: BenchEvent[][]): Promise<number>;
  count(): Promise<number>;
  close(): Promise<void>;
}

async function openBaseline(
  url: string,
  projectId: string,
  agentId: string,
): Promise<Baseline> {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  const { statement, shape } = await copyEventsTable(client);
  // Sessions exist already in a real ingest; one id per session here.
  const sessions = new Map<string, string>();

  function line(event: BenchEvent): string {
    let sessionId = sessions.get(event.sessionId);
    if (!sessionId) {
      sessionId = newId();
      sessions.set(event.sessionId, sessionId);
    }
    const usage = event.usage;
    const cost = priceEvent({
      model: event.model ?? null,
      usage: usage
        ? {
            input: usage.inputTokens,
            output: usage.outputTokens,
            cacheRead: usage.cacheReadTokens,
            cacheWrite5m: 0,
            cacheWrite1h: 0,
          }
        : null,
      reportedCostUsd: null,
    });

    return [
      newId(),
      projectId,
      sessionId,
      agentId,
      event.id,
      "native",
      event.type,
      event.name,
      "ok",
      event.time,
      event.toolName ?? null,
      event.model ?? null,
      usage?.inputTokens ?? null,
      usage?.outputTokens ?? null,
      usage?.cacheReadTokens ?? null,
      cost.costUsd,
      cost.costSource,
      event.input ? JSON.stringify(event.input) : null,
      new Date().toISOString(),
    ]
      .map(copyField)
      .join("\t");
  }

  return {
    shape,
    async store(batches) {
      await copyPartitions(client);
      const started = performance.now();
      for (const batch of batches) {
        const lines = batch.map(line);
        const stream = await client
          .unsafe(`copy staging_events (${copyColumns.join(", ")}) from stdin`)
          .writable();
        stream.write(lines.join("\n") + "\n");
        stream.end();
        await finished(stream);
        await client.unsafe(statement);
        await client.unsafe(`truncate staging_events`);
      }

      return (performance.now() - started) / 1000;
    },
    async count() {
      const [row] = await client<{ n: string }[]>`
        select count(*) as n from baseline_events`;

      return Number(row.n);
    },
    close: () => client.end({ timeout: 5 }),
  };
}

function ratio(value: number, base: number): number {
  return Math.round((value / base) * 1000) / 1000;
}

async function main() {
  if (!Number.isInteger(events) || events < BATCH) {
    throw new Error(`EVENTS must be a whole number of at least ${BATCH}`);
  }
  if (!Number.isInteger(httpClients) || httpClients < 1) {
    throw new Error("HTTP_CLIENTS must be a whole number of at least 1");
  }
  // One info line per request would mix with the JSON on stdout.
  logger.level = process.env.LOG_LEVEL ?? "warn";
  const handle = await openScratchDatabase("flotilla_bench_ingest");
  const { db } = handle;
  // The route handler asks db/runtime for its database: the scratch one.
  useDatabase(handle);
  const server = await serveRouteHandler(postEvents);
  let base: Baseline | null = null;
  try {
    const project = await makeProject(db, "bench-ingest");
    const { actor } = await makeAgent(db, project.id, "bench-agent");
    // A project of its own, so HTTP stores the same events afresh.
    const httpProject = await makeProject(db, "bench-ingest-http");
    const { secret } = await makeAgent(db, httpProject.id, "bench-http");
    base = await openBaseline(handle.location, project.id, actor.agentId);
    const batches = nativeEventBatches(events, BATCH);

    // Warm-up: other event ids, from agents of their own, not timed.
    const warmup = nativeEventBatches(WARMUP_BATCHES * BATCH, BATCH, "warm");
    const warmAgent = await makeAgent(db, project.id, "bench-warm");
    const warmHttp = await makeAgent(db, httpProject.id, "bench-http-warm");
    for (const batch of warmup) {
      await ingestEvents(db, warmAgent.actor, { events: batch });
    }
    await postOverHttp(
      `${server.url}/api/agent/v1/events`,
      warmup,
      warmHttp.secret,
      { seconds: 0, accepted: 0, rateLimited: 0, latenciesMs: [] },
    );
    await base.store(warmup);

    // The three ways take turns, a share of the batches each round, so a
    // busy machine slows all three alike and the ratios stay meaningful.
    const rounds = Math.min(ROUNDS, batches.length);
    const perRound = Math.ceil(batches.length / rounds);
    let inprocessSeconds = 0;
    let baselineSeconds = 0;
    let accepted = 0;
    const http: HttpRun = {
      seconds: 0,
      accepted: 0,
      rateLimited: 0,
      latenciesMs: [],
    };
    for (let round = 0; round < rounds; round += 1) {
      const share = batches.slice(round * perRound, (round + 1) * perRound);
      const started = performance.now();
      for (const batch of share) {
        const result = await ingestEvents(db, actor, { events: batch });
        accepted += result.accepted;
      }
      inprocessSeconds += (performance.now() - started) / 1000;
      await postOverHttp(
        `${server.url}/api/agent/v1/events`,
        share,
        secret,
        http,
      );
      baselineSeconds += await base.store(share);
    }
    if (accepted !== events) {
      throw new Error(`ingest accepted ${accepted} of ${events} events`);
    }
    if (http.accepted !== events) {
      throw new Error(`HTTP accepted ${http.accepted} of ${events} events`);
    }
    const baselineRows = (await base.count()) - WARMUP_BATCHES * BATCH;
    if (baselineRows !== events) {
      throw new Error(`baseline stored ${baselineRows} of ${events} events`);
    }

    const before = await storedEvents(db);
    const replayStarted = performance.now();
    for (const batch of batches) {
      await ingestEvents(db, actor, { events: batch });
    }
    const replaySeconds = (performance.now() - replayStarted) / 1000;
    const replayStoredRows = (await storedEvents(db)) - before;

    const inprocessEventsPerSec = events / inprocessSeconds;
    const httpEventsPerSec = events / http.seconds;
    const baselineEventsPerSec = events / baselineSeconds;
    console.log(
      JSON.stringify(
        {
          events,
          batchSize: BATCH,
          rounds,
          warmupBatches: WARMUP_BATCHES,
          httpServer: HTTP_SERVER,
          httpClients,
          httpEventsPerSec: Math.round(httpEventsPerSec),
          httpBatchLatencyMs: {
            p50: Math.round(percentile(http.latenciesMs, 50)),
            p95: Math.round(percentile(http.latenciesMs, 95)),
          },
          httpRateLimited: http.rateLimited,
          inprocessEventsPerSec: Math.round(inprocessEventsPerSec),
          baselineEventsPerSec: Math.round(baselineEventsPerSec),
          baselineTable: base.shape,
          ratioHttpToBaseline: ratio(httpEventsPerSec, baselineEventsPerSec),
          ratioInprocessToBaseline: ratio(
            inprocessEventsPerSec,
            baselineEventsPerSec,
          ),
          replayStoredRows,
          replaySeconds: Math.round(replaySeconds * 1000) / 1000,
        },
        null,
        2,
      ),
    );
  } finally {
    await base?.close();
    await server.close();
    useDatabase(null);
    await handle.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
