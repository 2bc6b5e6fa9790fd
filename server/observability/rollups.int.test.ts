import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { queryRows, type DatabaseHandle } from "@/db/client";
import type { Actor } from "@/server/identity/actor";
import { setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { receiveClaudeCodeHook } from "./hooks";
import { ingestEvents, type AgentActor } from "./ingest";
import { transcriptUsageEvents } from "./normalize/claude-code-transcript";
import { ingestOtlpLogs, ingestOtlpTraces } from "./otlp";
import { rollupMismatches } from "./rollups";
import { projectSpend } from "./spend";
import {
  makeAgent,
  makePerson,
  makeProject,
  makeTask,
  readCase,
  readJsonLines,
  steppingClock,
} from "./testing";

const models = ["claude-sonnet-4-5", "gpt-4.1", "mystery-model-9"];

// A priced, unpriced or token-less native event at a minute of the day.
function llmCall(sessionId: string, id: string, n: number, taskId?: string) {
  const minute = n % (24 * 60);

  return {
    id,
    sessionId,
    type: n % 7 === 0 ? "tool_call" : "llm_call",
    name: "step",
    time: new Date(Date.UTC(2026, 11, 1 + (n % 3), 0, minute)).toISOString(),
    model: models[n % models.length],
    usage: {
      inputTokens: 100 + n,
      outputTokens: 10 + (n % 13),
      cacheReadTokens: n % 5 === 0 ? 1000 : 0,
      cacheWrite5mTokens: n % 11 === 0 ? 300 : 0,
    },
    ...(n % 9 === 0 ? { costUsd: 0.00012345 * n } : {}),
    ...(taskId ? { taskId } : {}),
  };
}

interface RawTotals {
  cost: string | null;
  calls: string;
  unpriced: string;
  input: string | null;
}

describe.each(testKinds)("spend rollups on %s", (kind) => {
  let handle: DatabaseHandle;
  let agent: AgentActor;
  let other: AgentActor;
  let viewer: Actor;
  let projectId: string;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    const project = await makeProject(handle.db, "rollups");
    projectId = project.id;
    agent = (await makeAgent(handle.db, project.id, "builder")).actor;
    other = (await makeAgent(handle.db, project.id, "reviewer")).actor;
    viewer = (await makePerson(handle.db, `lead-${kind}@example.com`, "admin"))
      .actor;
  });
  afterAll(async () => handle.close());
  afterEach(() => setClock(null));

  async function rawTotals(from: string, to: string): Promise<RawTotals> {
    const [row] = await queryRows<RawTotals>(
      handle.db,
      sql`select sum(cost_usd) as cost, count(*) as calls,
            count(*) filter (where cost_source = 'unpriced') as unpriced,
            sum(input_tokens) as input
          from events
          where project_id = ${projectId} and cost_source <> 'none'
            and occurred_at >= ${from}::timestamptz
            and occurred_at < ${to}::timestamptz`,
    );

    return row;
  }

  it("equals the raw events after cases, replays and a concurrent burst", async () => {
    setClock(steppingClock("2026-11-30T09:14:00.000Z"));
    const bodies = readJsonLines("hooks/session-basic.jsonl");
    const transcript = {
      source: "claude-code-transcript",
      events: transcriptUsageEvents(
        readJsonLines("hooks/transcript-usage.jsonl"),
      ),
    };
    const trace = JSON.parse(readCase("otlp/genai-trace.json")) as unknown;
    const logs = JSON.parse(readCase("otlp/claude-code-logs.json")) as unknown;
    // The second round is a replay of everything: it must add nothing.
    for (let round = 0; round < 2; round += 1) {
      for (const body of bodies) {
        await receiveClaudeCodeHook(handle.db, agent, body);
      }
      await ingestEvents(handle.db, agent, transcript);
      await ingestOtlpTraces(handle.db, agent, trace);
      await ingestOtlpLogs(handle.db, agent, logs);
      expect(await rollupMismatches(handle.db, projectId)).toEqual([]);
    }
    const afterCases = await projectSpend(handle.db, viewer, {
      project: "rollups",
      from: "2026-11-01",
      to: "2026-11-30",
    });
    // The case files' priced calls, once each despite the replay.
    expect(afterCases.totals.costUsd).toBe(0.5531735);
    expect(afterCases.totals.calls).toBe(7);

    // A burst: batches of two agents at once, sharing hours and key
    // names (each batch repeats part of another's), with goal, task and no task,
    // and items rejected inside a batch.
    const { task } = await makeTask(handle.db, projectId, "rollup task");
    const batches = Array.from({ length: 8 }, (_, b) => ({
      events: [
        ...Array.from({ length: 60 }, (_, i) => {
          const n = b * 40 + i;

          return llmCall(
            `burst-${b % 3}`,
            `k-${n}`,
            n,
            n % 2 ? task.id : undefined,
          );
        }),
        { id: `bad-${b}`, sessionId: "burst-0", type: "llm_call" },
        {
          ...llmCall("burst-0", `foreign-${b}`, b),
          taskId: "00000000-0000-4000-8000-000000000000",
        },
      ],
    }));
    const results = await Promise.all(
      batches.flatMap((batch, b) => [
        ingestEvents(handle.db, b % 2 ? other : agent, batch),
        // The same batch again at the same time, from the same agent.
        ingestEvents(handle.db, b % 2 ? other : agent, batch),
      ]),
    );
    const accepted = results.reduce((sum, r) => sum + r.accepted, 0);
    expect(results.every((r) => r.rejected === 2)).toBe(true);
    // 8 batches of 60, each overlapping the next by 20 keys; neighbours
    // come from different agents, and keys are each agent's own, so all
    // 480 are stored, each once despite the concurrent duplicate batch.
    const [stored] = await queryRows<{ n: string }>(
      handle.db,
      sql`select count(*) as n from events
          where project_id = ${projectId} and event_key like 'k-%'`,
    );
    expect(Number(stored.n)).toBe(480);
    expect(accepted).toBe(480);
    expect(await rollupMismatches(handle.db, projectId)).toEqual([]);

    // A replay of the whole burst stores nothing and adds nothing.
    for (const [b, batch] of batches.entries()) {
      const replay = await ingestEvents(
        handle.db,
        b % 2 ? other : agent,
        batch,
      );
      expect(replay.accepted).toBe(0);
    }
    expect(await rollupMismatches(handle.db, projectId)).toEqual([]);

    // Reports agree with the raw events, over whole days and over a range
    // that starts and ends inside an hour.
    for (const [from, to] of [
      ["2026-11-01T00:00:00.000Z", "2026-12-31T00:00:00.000Z"],
      ["2026-12-01T05:17:30.000Z", "2026-12-02T13:42:00.000Z"],
      ["2026-12-01T05:10:00.000Z", "2026-12-01T05:50:00.000Z"],
    ]) {
      const report = await projectSpend(handle.db, viewer, {
        project: "rollups",
        from,
        to,
        groupBy: ["day", "agent"],
      });
      const raw = await rawTotals(from, to);
      expect(report.totals.costUsd).toBe(
        raw.cost === null ? null : Number(raw.cost),
      );
      expect(report.totals.calls).toBe(Number(raw.calls));
      expect(report.totals.unpricedCalls).toBe(Number(raw.unpriced));
      expect(report.totals.inputTokens).toBe(Number(raw.input ?? 0));
      const calls = report.rows.reduce((sum, r) => sum + r.calls, 0);
      expect(calls).toBe(Number(raw.calls));
    }

    const byTask = await projectSpend(handle.db, viewer, {
      project: "rollups",
      from: "2026-12-01",
      to: "2026-12-03",
      groupBy: "task",
    });
    expect(byTask.rows.map((r) => r.task).sort()).toEqual([
      null,
      "rollup task",
    ]);
    const byModel = await projectSpend(handle.db, viewer, {
      project: "rollups",
      from: "2026-12-01",
      to: "2026-12-03",
      groupBy: "model",
    });
    // An unknown model stays unpriced (no cost), apart from reported costs.
    const mystery = byModel.rows.find((r) => r.model === "mystery-model-9");
    expect(mystery?.unpricedCalls).toBeGreaterThan(0);
  });
});
