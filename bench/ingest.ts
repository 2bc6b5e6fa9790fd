import { performance } from "node:perf_hooks";
import { finished } from "node:stream/promises";
import postgres from "postgres";
import { sql } from "drizzle-orm";
import { queryRows, type Database } from "@/db/client";
import { openScratchDatabase } from "@/server/observability/bench";
import { ingestEvents } from "@/server/observability/ingest";
import { priceEvent } from "@/server/observability/prices";
import { makeAgent, makeProject } from "@/server/observability/testing";
import { newId } from "@/server/runtime";

// npm run bench:ingest: events per second through ingestEvents (the
// function behind POST /api/agent/v1/events) in batches of 500, against a
// baseline measured in the same run on the same server: each batch COPYed
// into a staging table, then inserted into a copy of the events table
// (same columns and indexes) with on conflict do nothing. Then the same
// batches again: a replay must store nothing. PostgreSQL only, in a
// scratch database; prints JSON. HTTP throughput is not measured yet.

const BATCH = 500;
const events = Number(process.env.EVENTS ?? 50_000);
const models = ["claude-sonnet-4-5", "claude-haiku-4-5", "gpt-4.1"];

interface NativeEvent {
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

function makeBatches(): NativeEvent[][] {
  const start = Date.UTC(2026, 10, 1);
  const batches: NativeEvent[][] = [];
  for (let b = 0; b * BATCH < events; b += 1) {
    const batch: NativeEvent[] = [];
    for (let i = b * BATCH; i < Math.min(events, (b + 1) * BATCH); i += 1) {
      const session = `bench-${Math.floor(b / 4)}`;
      const time = new Date(start + i * 1000).toISOString();
      batch.push(
        i % 3 === 0
          ? {
              id: `ev-${i}`,
              sessionId: session,
              type: "tool_call",
              name: "Bash",
              toolName: "Bash",
              time,
              input: { command: `npm test -- --shard ${i % 8}` },
            }
          : {
              id: `ev-${i}`,
              sessionId: session,
              type: "llm_call",
              name: "model call",
              time,
              model: models[i % models.length],
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

async function storedEvents(db: Database): Promise<number> {
  const [row] = await queryRows<{ n: string }>(
    db,
    sql`select count(*) as n from events`,
  );

  return Number(row.n);
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

async function baseline(
  url: string,
  projectId: string,
  agentId: string,
  batches: NativeEvent[][],
): Promise<number> {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await client.unsafe(
      `create table baseline_events (like events including all)`,
    );
    await client.unsafe(
      `create unlogged table staging_events (like events including defaults)`,
    );
    // Sessions exist already in a real ingest; one id per session here.
    const sessions = new Map<string, string>();
    const started = performance.now();
    for (const batch of batches) {
      const lines = batch.map((event) => {
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
      });
      const stream = await client
        .unsafe(`copy staging_events (${copyColumns.join(", ")}) from stdin`)
        .writable();
      stream.write(lines.join("\n") + "\n");
      stream.end();
      await finished(stream);
      await client.unsafe(
        `insert into baseline_events select * from staging_events
         on conflict do nothing`,
      );
      await client.unsafe(`truncate staging_events`);
    }

    return (performance.now() - started) / 1000;
  } finally {
    await client.end({ timeout: 5 });
  }
}

async function main() {
  if (!Number.isInteger(events) || events < BATCH) {
    throw new Error(`EVENTS must be a whole number of at least ${BATCH}`);
  }
  const handle = await openScratchDatabase("flotilla_bench_ingest");
  const { db } = handle;
  try {
    const project = await makeProject(db, "bench-ingest");
    const { actor } = await makeAgent(db, project.id, "bench-agent");
    const batches = makeBatches();

    const started = performance.now();
    let accepted = 0;
    for (const batch of batches) {
      const result = await ingestEvents(db, actor, { events: batch });
      accepted += result.accepted;
    }
    const inprocessSeconds = (performance.now() - started) / 1000;
    if (accepted !== events) {
      throw new Error(`ingest accepted ${accepted} of ${events} events`);
    }

    const baselineSeconds = await baseline(
      handle.location,
      project.id,
      actor.agentId,
      batches,
    );

    const before = await storedEvents(db);
    const replayStarted = performance.now();
    for (const batch of batches) {
      await ingestEvents(db, actor, { events: batch });
    }
    const replaySeconds = (performance.now() - replayStarted) / 1000;
    const replayStoredRows = (await storedEvents(db)) - before;

    const inprocessEventsPerSec = events / inprocessSeconds;
    const baselineEventsPerSec = events / baselineSeconds;
    console.log(
      JSON.stringify(
        {
          events,
          batchSize: BATCH,
          inprocessEventsPerSec: Math.round(inprocessEventsPerSec),
          baselineEventsPerSec: Math.round(baselineEventsPerSec),
          ratioInprocessToBaseline:
            Math.round((inprocessEventsPerSec / baselineEventsPerSec) * 1000) /
            1000,
          replayStoredRows,
          replaySeconds: Math.round(replaySeconds * 1000) / 1000,
          httpEventsPerSec: null,
          ratioHttpToBaseline: null,
        },
        null,
        2,
      ),
    );
  } finally {
    await handle.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
