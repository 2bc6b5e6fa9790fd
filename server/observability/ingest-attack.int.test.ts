import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, like, sql } from "drizzle-orm";
import { queryRows, type DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { agentSessions, apiTokens, events } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { openTestDatabase, testKinds } from "@/tests/db";
import { POST as postEvents } from "@/app/api/agent/v1/events/route";
import { POST as postHook } from "@/app/api/agent/v1/hooks/claude-code/route";
import { POST as postTraces } from "@/app/api/otlp/v1/traces/route";
import { POST as postLogs } from "@/app/api/otlp/v1/logs/route";
import { receiveClaudeCodeHook } from "./hooks";
import { ingestEvents, type AgentActor } from "./ingest";
import { ingestOtlpLogs, ingestOtlpTraces } from "./otlp";
import { verifySessionChain } from "./chain";
import { rollupMismatches } from "./rollups";
import { getSession, listSessions } from "./sessions";
import { projectSpend } from "./spend";
import { makeAgent, makePerson, makeProject } from "./testing";

// Ingest under hostile and sloppy clients: replays mixed with new events,
// the same batch sent many times at once, overlapping batches of one
// session from several clients, text that array literals or JSON treat
// specially, numbers at their limits and bodies that are not what they
// claim. Afterwards every session's chain verifies with chain_seq 1..n,
// its totals equal the sum of its events and the spend rollups equal the
// raw events.

type Viewer = Extract<Actor, { kind: "user" }>;

const at = "2026-11-30T09:14:06.880Z";

function llmCall(sessionId: string, id: string, extra: object = {}) {
  return {
    id,
    sessionId,
    type: "llm_call",
    time: at,
    model: "claude-sonnet-4-5-20250929",
    usage: { inputTokens: 10, outputTokens: 20 },
    ...extra,
  };
}

// Text that array literals, JSON or PostgreSQL treat specially.
const awkward = [
  '"',
  "\\",
  '\\"',
  "{",
  "}",
  "{a,b}",
  ",",
  "NULL",
  "null",
  "",
  " ",
  "\t\n ",
  "\u0000",
  "a\u0000b",
  "\ud83d\ude00",
  "\ud800",
  "x\udfff",
  "\u0001\u001f\u007f",
  "'; drop table events; --",
  "x".repeat(100),
  '{"a":1}',
  "\\N",
  "e\u0301",
  "\u2028\u2029",
  "x\ufeff",
];

function cleaned(text: string): string {
  return text.replaceAll("\u0000", "\uFFFD").toWellFormed();
}

async function sum<T>(
  results: Promise<T>[],
  count: (r: T) => number,
): Promise<number> {
  return (await Promise.all(results)).reduce((n, r) => n + count(r), 0);
}

describe.each(testKinds)("ingest under attack on %s", (kind) => {
  let handle: DatabaseHandle;
  let agent: AgentActor;
  let second: AgentActor;
  let viewer: Viewer;
  let projectId: string;
  const slug = `attack-${kind}`;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    const project = await makeProject(handle.db, slug);
    projectId = project.id;
    agent = (await makeAgent(handle.db, project.id, "runner")).actor;
    second = (await makeAgent(handle.db, project.id, "second")).actor;
    viewer = (await makePerson(handle.db, `v@${kind}.test`, "viewer")).actor;
  });
  afterAll(async () => handle.close());

  /** What is wrong with the sessions whose client id starts with
   * `prefix`: a chain that does not verify, chain_seq other than 1..n,
   * totals that differ from their events; and rollups that differ from
   * raw events anywhere in the project. */
  async function inconsistencies(prefix: string): Promise<string[]> {
    const sessions = await handle.db
      .select()
      .from(agentSessions)
      .where(
        and(
          eq(agentSessions.projectId, projectId),
          like(agentSessions.externalId, `${prefix}%`),
        ),
      );
    const problems: string[] = [];
    for (const s of sessions) {
      const verdict = await verifySessionChain(handle.db, viewer, {
        project: slug,
        sessionId: s.id,
      });
      if (!verdict.verified) {
        problems.push(`${s.externalId}: chain ${JSON.stringify(verdict)}`);
      }
      const [sums] = await queryRows<{
        n: number;
        errors: number;
        cost: string;
        seqs: string | null;
        flags: number;
      }>(
        handle.db,
        sql`select count(*)::int as n,
              (select count(*)::int from event_flags f
                where f.session_id = ${s.id}) as flags,
              count(*) filter (where status = 'error')::int as errors,
              coalesce(sum(cost_usd), 0)::numeric(20, 8)::text as cost,
              string_agg(chain_seq::text, ',' order by chain_seq) as seqs
            from events where session_id = ${s.id}`,
      );
      const expected = Array.from({ length: sums.n }, (_, i) => i + 1);
      if ((sums.seqs ?? "") !== expected.join(",")) {
        problems.push(`${s.externalId}: chain_seq ${sums.seqs}`);
      }
      if (s.eventCount !== sums.n || s.chainLength !== sums.n) {
        problems.push(
          `${s.externalId}: eventCount ${s.eventCount}, chainLength ` +
            `${s.chainLength}, ${sums.n} events`,
        );
      }
      if (s.errorCount !== sums.errors) {
        problems.push(
          `${s.externalId}: errorCount ${s.errorCount}, ${sums.errors} failed`,
        );
      }
      if (s.flagCount !== sums.flags) {
        problems.push(
          `${s.externalId}: flagCount ${s.flagCount}, ${sums.flags} flags`,
        );
      }
      if (Number(s.costUsd) !== Number(sums.cost)) {
        problems.push(
          `${s.externalId}: cost ${s.costUsd}, events ${sums.cost}`,
        );
      }
    }
    const rollups = await rollupMismatches(handle.db, projectId);
    for (const m of rollups) problems.push(`rollup ${JSON.stringify(m)}`);

    return problems;
  }

  async function storedByKey(key: string) {
    const [row] = await handle.db
      .select()
      .from(events)
      .where(and(eq(events.projectId, projectId), eq(events.eventKey, key)));

    return row;
  }

  // Behaviour that holds.

  it("stores a batch sent 10 times at once exactly once", async () => {
    const batch = {
      events: Array.from({ length: 30 }, (_, i) =>
        llmCall("same-batch", `same-batch/${i}`, { costUsd: 0.0001 * i }),
      ),
    };
    const sends = Array.from({ length: 10 }, () =>
      ingestEvents(handle.db, agent, batch),
    );
    const results = await Promise.all(sends);

    expect(results.reduce((n, r) => n + r.accepted, 0)).toBe(30);
    expect(results.reduce((n, r) => n + r.duplicate, 0)).toBe(270);
    expect(await inconsistencies("same-batch")).toEqual([]);
  });

  it("links replays mixed with new events in any key order, concurrently", async () => {
    const odd = Array.from({ length: 10 }, (_, i) =>
      llmCall("mixed", `mixed/${i * 2 + 1}`),
    );
    expect(
      (await ingestEvents(handle.db, agent, { events: odd })).accepted,
    ).toBe(10);
    const all = Array.from({ length: 20 }, (_, i) =>
      llmCall("mixed", `mixed/${i}`, i % 3 === 0 ? { status: "error" } : {}),
    );
    const reversed = [...all].reverse();
    const accepted = await sum(
      [
        ingestEvents(handle.db, agent, { events: all }),
        ingestEvents(handle.db, agent, { events: reversed }),
        ingestEvents(handle.db, agent, { events: all.slice(5) }),
        ingestEvents(handle.db, agent, { events: reversed.slice(3, 15) }),
      ],
      (r) => r.accepted,
    );

    expect(accepted).toBe(10);
    const [session] = await handle.db
      .select()
      .from(agentSessions)
      .where(eq(agentSessions.externalId, "mixed"));
    expect(session).toMatchObject({ eventCount: 20, chainLength: 20 });
    expect(await inconsistencies("mixed")).toEqual([]);
  });

  it("keeps overlapping batches of several sessions from two agents apart", async () => {
    const all = Array.from({ length: 40 }, (_, i) =>
      llmCall(`overlap-${i % 3}`, `overlap/${i}`, {
        status: i % 4 === 0 ? "error" : "ok",
      }),
    );
    const [a1, a2, b1, b2, a3] = await Promise.all([
      ingestEvents(handle.db, agent, { events: all.slice(0, 25) }),
      ingestEvents(handle.db, agent, { events: all.slice(15) }),
      ingestEvents(handle.db, second, { events: all.slice(10, 30).reverse() }),
      ingestEvents(handle.db, second, { events: all }),
      ingestEvents(handle.db, agent, { events: [...all].reverse() }),
    ]);

    // Ids are each agent's own: both agents store all 40.
    expect(a1.accepted + a2.accepted + a3.accepted).toBe(40);
    expect(b1.accepted + b2.accepted).toBe(40);
    expect(await inconsistencies("overlap-")).toEqual([]);
  });

  it("survives 20 overlapping shuffled batches over 5 sessions at once", async () => {
    const all = Array.from({ length: 200 }, (_, i) =>
      llmCall(`storm-${i % 5}`, `storm/${i}`, {
        time: new Date(Date.UTC(2026, 10, 1 + (i % 20), i % 24)).toISOString(),
        status: i % 7 === 0 ? "error" : "ok",
        ...(i % 3 === 0 ? { costUsd: 0.00000123 * i } : {}),
        ...(i % 4 === 0 ? { input: { command: "rm -rf /" } } : {}),
      }),
    );
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;

      return seed / 2147483648;
    };
    const batches = Array.from({ length: 20 }, () => {
      const start = Math.floor(random() * 150);
      const slice = all.slice(start, start + 50 + Math.floor(random() * 50));

      return slice.sort(() => random() - 0.5);
    });
    const accepted = await sum(
      batches.map((b) => ingestEvents(handle.db, agent, { events: b })),
      (r) => r.accepted,
    );

    expect(accepted).toBe(new Set(batches.flat().map((e) => e.id)).size);
    expect(await inconsistencies("storm-")).toEqual([]);
  });

  it("stores awkward text in every field as sent, and its chains verify", async () => {
    const items = awkward.map((text, i) => ({
      id: `awk-${i}-${text}`,
      sessionId: `awk ${i} ${text}`,
      type: "tool_call",
      time: at,
      name: text,
      toolName: text,
      model: text,
      provider: text,
      traceId: text,
      spanId: text,
      parentSpanId: text,
      sessionTitle: text,
      input: { [text]: text, list: [text, null, text] },
      output: text,
      attributes: { [text || "empty"]: text, nested: { [text]: [text] } },
    }));
    const result = await ingestEvents(handle.db, agent, { events: items });

    expect(result).toMatchObject({ accepted: awkward.length, rejected: 0 });
    for (const [i, text] of awkward.entries()) {
      const clean = cleaned(text);
      const row = await storedByKey(`awk-${i}-${clean}`.trim());
      expect(row, `event ${i}`).toBeDefined();
      expect(row).toMatchObject({
        name: clean || "tool_call",
        toolName: clean,
        model: clean,
        provider: clean,
        traceId: clean,
        spanId: clean,
        parentSpanId: clean,
        output: clean,
        input: { [clean]: clean, list: [clean, null, clean] },
      });
    }
    expect(await inconsistencies("awk ")).toEqual([]);
  });

  it("reads awkward sessions and models back through the session page and spend", async () => {
    const day = "2026-09-15";
    const items = awkward.map((text, i) =>
      llmCall(`read ${i} ${text}`, `read/${i}`, {
        time: `${day}T10:00:00.000Z`,
        model: text,
        costUsd: 0.001 * (i + 1),
      }),
    );
    expect(
      (await ingestEvents(handle.db, agent, { events: items })).accepted,
    ).toBe(awkward.length);

    for (const [i, text] of awkward.entries()) {
      const detail = await getSession(handle.db, viewer, {
        project: slug,
        sessionId: cleaned(`read ${i} ${text}`).trim(),
      });
      expect(detail.events.map((e) => e.model)).toEqual([cleaned(text)]);
    }
    const report = await projectSpend(handle.db, viewer, {
      project: slug,
      from: day,
      to: day,
      groupBy: "model",
    });
    // "\u0000" and "\ud800" both become "\ufffd": one model.
    const expected = new Map<string, number>();
    for (const [i, text] of awkward.entries()) {
      const model = cleaned(text);
      expected.set(model, (expected.get(model) ?? 0) + 0.001 * (i + 1));
    }
    const byModel = new Map(report.rows.map((r) => [r.model, r.costUsd]));
    for (const [model, cost] of expected) {
      expect(byModel.get(model), JSON.stringify(model)).toBeCloseTo(cost, 8);
    }
    expect(report.totals.calls).toBe(awkward.length);
    expect(await inconsistencies("read ")).toEqual([]);
  });

  it("re-links a batch of awkward keys that mixes replays with new events", async () => {
    const keys = awkward
      .filter((t) => t.trim() !== "")
      .map((t, i) => `rk${i}${t}`);
    const item = (id: string) =>
      llmCall("relink-awkward", id, { model: "claude-sonnet-4-5" });
    const half = keys.filter((_, i) => i % 2 === 0);
    expect(
      (await ingestEvents(handle.db, agent, { events: half.map(item) }))
        .accepted,
    ).toBe(half.length);
    const again = await ingestEvents(handle.db, agent, {
      events: [...keys].reverse().map(item),
    });

    expect(again).toMatchObject({
      accepted: keys.length - half.length,
      duplicate: half.length,
    });
    expect(await inconsistencies("relink-awkward")).toEqual([]);
  });

  it("treats ids equal after cleaning as one id, in one batch", async () => {
    const result = await ingestEvents(handle.db, agent, {
      events: [
        llmCall("clean\u0000s", "clean\u0000k"),
        llmCall("clean\ufffds", "clean\ufffdk"),
        llmCall("clean\ud800s", "clean\ud800k"),
        llmCall("clean\ufffds", "clean\ufffdk2"),
      ],
    });

    expect(result).toMatchObject({ accepted: 2, duplicate: 2, rejected: 0 });
    expect(await inconsistencies("clean")).toEqual([]);
  });

  it("stores 1000 events of 1000 sessions, and replays of them at once add nothing", async () => {
    const items = Array.from({ length: 1000 }, (_, i) =>
      llmCall(`wide-${i}`, `wide/${i}`),
    );
    expect(
      (await ingestEvents(handle.db, agent, { events: items })).accepted,
    ).toBe(1000);
    const accepted = await sum(
      [
        ingestEvents(handle.db, agent, { events: items }),
        ingestEvents(handle.db, agent, { events: [...items].reverse() }),
      ],
      (r) => r.accepted,
    );

    expect(accepted).toBe(0);
    expect(await inconsistencies("wide-")).toEqual([]);
  }, 60_000);

  it("re-links a long session past a page of the chain when half a batch is replays", async () => {
    const item = (i: number) =>
      llmCall("long-chain", `long-chain/${i}`, {
        time: new Date(Date.UTC(2026, 10, 10, 0, 0, i)).toISOString(),
      });
    const first = Array.from({ length: 1000 }, (_, i) => item(i));
    expect(
      (await ingestEvents(handle.db, agent, { events: first })).accepted,
    ).toBe(1000);
    const mixed = Array.from({ length: 600 }, (_, i) => item(700 + i));
    const [a, b] = await Promise.all([
      ingestEvents(handle.db, agent, { events: mixed }),
      ingestEvents(handle.db, agent, { events: [...mixed].reverse() }),
    ]);

    expect(a.accepted + b.accepted).toBe(300);
    expect(a.duplicate + b.duplicate).toBe(900);
    expect(await inconsistencies("long-chain")).toEqual([]);
  }, 60_000);

  it("stores events of 24 months per batch and rejects the months beyond, naming them", async () => {
    const items = Array.from({ length: 60 }, (_, i) =>
      llmCall("months", `months/${i}`, {
        time: new Date(
          Date.UTC(1990 + Math.floor(i / 12), i % 12, 3),
        ).toISOString(),
        costUsd: 0.01,
      }),
    );
    items.push(
      llmCall("months", "months/first", { time: "1970-01-01T00:00:00.000Z" }),
      llmCall("months", "months/last", { time: "9999-12-31T23:59:59.999Z" }),
    );
    const result = await ingestEvents(handle.db, agent, { events: items });

    // Each month is a partition made on demand: one batch makes at most 24.
    expect(result).toMatchObject({ accepted: 24, rejected: 38 });
    expect(result.rejections[0]).toEqual({
      index: 24,
      reason:
        "time: a batch may hold events of at most 24 different months; " +
        "send the events of 1992-01 in another batch",
    });
    // Sent again in smaller batches, the rest are stored.
    const rest = result.rejections.map((r) => items[r.index]);
    const again = [
      await ingestEvents(handle.db, agent, { events: rest.slice(0, 24) }),
      await ingestEvents(handle.db, agent, { events: rest.slice(24) }),
    ];
    expect(again.map((r) => r.accepted)).toEqual([24, 14]);
    expect(await inconsistencies("months")).toEqual([]);
  }, 60_000);

  it("creates the same new monthly partitions for concurrent batches once", async () => {
    const batches = Array.from({ length: 5 }, (_, b) =>
      Array.from({ length: 12 }, (_, m) =>
        llmCall(`new-months-${b}`, `new-months/${b}/${m}`, {
          time: new Date(Date.UTC(2050, b * 3 + m, 5)).toISOString(),
          costUsd: 0.5,
        }),
      ),
    );
    const accepted = await sum(
      batches.map((events) => ingestEvents(handle.db, agent, { events })),
      (r) => r.accepted,
    );

    expect(accepted).toBe(60);
    expect(await inconsistencies("new-months-")).toEqual([]);
  });

  it("rejects numbers and times past their limits item by item, naming the field", async () => {
    const result = await ingestEvents(handle.db, agent, {
      events: [
        llmCall("limits", "limits/ok", {
          input: { big: 1e308, small: 5e-324, int: 12345678901234567890 },
          costUsd: 1e-9,
        }),
        llmCall("limits", "limits/cost-string", { costUsd: "1.5" }),
        llmCall("limits", "limits/fraction", { usage: { inputTokens: 1.5 } }),
        llmCall("limits", "limits/negative", { usage: { inputTokens: -1 } }),
        llmCall("limits", "limits/huge", { usage: { inputTokens: 1e10 } }),
        llmCall("limits", "limits/max", {
          model: "claude-opus-4",
          usage: {
            inputTokens: 1e9,
            outputTokens: 1e9,
            cacheReadTokens: 1e9,
            cacheWrite5mTokens: 1e9,
            cacheWrite1hTokens: 1e9,
          },
        }),
        llmCall("limits", "limits/cost-max", { costUsd: 999999.999999999 }),
        llmCall("limits", "limits/1969", { time: "1969-12-31T23:59:59.999Z" }),
        llmCall("limits", "limits/10000", {
          time: "9999-12-31T23:59:59.999-01:00",
        }),
        llmCall("limits", "limits/feb30", { time: "2026-02-30T00:00:00Z" }),
        llmCall("limits", "limits/duration", { durationMs: 2 ** 31 }),
      ],
    });

    expect(result.accepted).toBe(3);
    expect(
      result.rejections.map((r) => [r.index, r.reason.split(/[: ]/)[0]]),
    ).toEqual([
      [1, "costUsd"],
      [2, "usage.inputTokens"],
      [3, "usage.inputTokens"],
      [4, "usage.inputTokens"],
      [7, "time"],
      [8, "time"],
      [9, "time"],
      [10, "durationMs"],
    ]);
    expect(await inconsistencies("limits")).toEqual([]);
  });

  it("stores a hook sent 10 times at once, with awkward text, once", async () => {
    const body = {
      session_id: 'hook "\\ {x,y} NULL',
      hook_event_name: "PostToolUse",
      tool_name: 'Ba"sh\\',
      tool_use_id: "toolu_\u0000{}",
      tool_input: { command: "echo \"hi\" \\ '{NULL}'" },
      tool_response: { stdout: "\ud800", stderr: "" },
    };
    const accepted = await sum(
      Array.from({ length: 10 }, () =>
        receiveClaudeCodeHook(handle.db, agent, body),
      ),
      (r) => r.result.accepted,
    );
    expect(accepted).toBe(1);
    for (const name of ["Stop", "Notification", "UserPromptSubmit"]) {
      const once = await sum(
        Array.from({ length: 5 }, () =>
          receiveClaudeCodeHook(handle.db, agent, {
            ...body,
            hook_event_name: name,
            message: name,
          }),
        ),
        (r) => r.result.accepted,
      );
      expect(once, name).toBe(1);
    }

    expect(await inconsistencies("hook ")).toEqual([]);
  });

  it("stores OTLP spans and log records sent 8 times at once once, counting those past a limit", async () => {
    const span = (spanId: string, attributes: unknown[]) => ({
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId,
      name: 'chat "x"',
      startTimeUnixNano: "1796032800000000000",
      endTimeUnixNano: "1796032801000000000",
      attributes: [
        { key: "gen_ai.operation.name", value: { stringValue: "chat" } },
        { key: "session.id", value: { stringValue: 'otlp \\ "session"' } },
        ...attributes,
      ],
    });
    const model = (name: string) => ({
      key: "gen_ai.request.model",
      value: { stringValue: name },
    });
    const traces = {
      resourceSpans: [
        {
          resource: {
            attributes: [
              { key: "service.name", value: { stringValue: 'a"b\\c{}' } },
            ],
          },
          scopeSpans: [
            {
              spans: [
                span("b7ad6b7169203331", [
                  model('claude-sonnet-4-5",NULL'),
                  {
                    key: "gen_ai.usage.input_tokens",
                    value: { intValue: "99999999999999999999" },
                  },
                ]),
                span("b7ad6b7169203332", [
                  model("claude-sonnet-4-5"),
                  {
                    key: "gen_ai.usage.input_tokens",
                    value: { intValue: "-5" },
                  },
                  {
                    key: "gen_ai.usage.output_tokens",
                    value: { doubleValue: 2.5 },
                  },
                ]),
                span("b7ad6b7169203333", [
                  model("claude-sonnet-4-5"),
                  {
                    key: "gen_ai.usage.input_tokens",
                    value: { stringValue: "12" },
                  },
                ]),
              ],
            },
          ],
        },
      ],
    };
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        ingestOtlpTraces(handle.db, agent, traces),
      ),
    );
    for (const answer of answers) {
      expect(answer.partialSuccess).toMatchObject({
        rejectedSpans: 1,
        errorMessage: expect.stringContaining("span 0: usage.inputTokens"),
      });
    }

    const record = (nanos: string, cost: string) => ({
      timeUnixNano: nanos,
      body: { stringValue: "claude_code.api_request" },
      attributes: [
        { key: "event.name", value: { stringValue: "api_request" } },
        { key: "session.id", value: { stringValue: 'otlp-logs "x"' } },
        { key: "model", value: { stringValue: "claude-sonnet-4-5" } },
        { key: "cost_usd", value: { stringValue: cost } },
        { key: "input_tokens", value: { stringValue: "12" } },
      ],
    });
    const logs = {
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: [
                record("1796032800000000000", "1e-3"),
                record("1796032800000000001", "99999999"),
              ],
            },
          ],
        },
      ],
    };
    const logAnswers = await Promise.all(
      Array.from({ length: 8 }, () => ingestOtlpLogs(handle.db, agent, logs)),
    );
    for (const answer of logAnswers) {
      expect(answer.partialSuccess).toMatchObject({
        rejectedLogRecords: 1,
        errorMessage: expect.stringContaining("log record 1: costUsd"),
      });
    }

    expect(await inconsistencies("otlp")).toEqual([]);
    const [spans] = await queryRows<{ n: number }>(
      handle.db,
      sql`select count(*)::int as n from events
          where project_id = ${projectId} and source = 'otlp'
            and trace_id = '0af7651916cd43dd8448eb211c80319c'`,
    );
    expect(spans.n).toBe(2);
  });

  // Values that plain objects, btree indexes and text decoders treat
  // specially, and replays sent under the wrong session.

  it("rejects only the span or log record whose model is too long to store", async () => {
    // 1,000 CJK characters that do not compress: 3,000 bytes, more than a
    // btree index row (spend rollups are keyed by model) can hold.
    let seed = 3;
    const model = Array.from({ length: 1000 }, () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;

      return String.fromCharCode(0x4e00 + (seed % 5000));
    }).join("");
    const span = (spanId: string, name: string) => ({
      traceId: "7d0a1119ba25a325f48bd855a35ae82e",
      spanId,
      name: "chat",
      startTimeUnixNano: "1796032800000000000",
      endTimeUnixNano: "1796032800000000001",
      attributes: [
        { key: "gen_ai.operation.name", value: { stringValue: "chat" } },
        { key: "gen_ai.request.model", value: { stringValue: name } },
        { key: "gen_ai.usage.input_tokens", value: { intValue: 5 } },
      ],
    });
    const traces = await ingestOtlpTraces(handle.db, agent, {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                span("a1b2c3d4e5f60718", model),
                span("a1b2c3d4e5f60719", "claude-sonnet-4-5"),
              ],
            },
          ],
        },
      ],
    });

    expect(traces.partialSuccess).toMatchObject({
      rejectedSpans: 1,
      errorMessage: expect.stringContaining("span 0: model"),
    });
    expect(
      await storedByKey(
        "otlp:7d0a1119ba25a325f48bd855a35ae82e:a1b2c3d4e5f60719",
      ),
    ).toBeDefined();

    const record = (nanos: string, name: string) => ({
      timeUnixNano: nanos,
      attributes: [
        { key: "event.name", value: { stringValue: "api_request" } },
        { key: "session.id", value: { stringValue: "long-model-logs" } },
        { key: "model", value: { stringValue: name } },
        { key: "input_tokens", value: { stringValue: "12" } },
      ],
    });
    const logs = await ingestOtlpLogs(handle.db, agent, {
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: [
                record("1796032800000000000", model),
                record("1796032800000000001", "claude-sonnet-4-5"),
              ],
            },
          ],
        },
      ],
    });

    expect(logs.partialSuccess).toMatchObject({
      rejectedLogRecords: 1,
      errorMessage: expect.stringContaining("log record 0: model"),
    });
  });

  it("keeps an input or attribute key named __proto__ as sent", async () => {
    const body = JSON.parse(
      `{"events":[{"id":"proto-native","sessionId":"proto-native",
        "type":"tool_call","time":"${at}",
        "input":{"__proto__":{"command":"rm -rf /"},"a":1},
        "attributes":{"__proto__":"x","k":1}}]}`,
    );
    expect((await ingestEvents(handle.db, agent, body)).accepted).toBe(1);
    const row = await storedByKey("proto-native");

    expect(Object.keys(row.input as object).sort()).toEqual(["__proto__", "a"]);
    expect(Object.keys(row.attributes as object).sort()).toEqual([
      "__proto__",
      "k",
    ]);
  });

  it("keeps a Claude Code hook's tool input key named __proto__", async () => {
    await receiveClaudeCodeHook(
      handle.db,
      agent,
      JSON.parse(
        `{"session_id":"proto-hook","hook_event_name":"PostToolUse",
          "tool_name":"Bash","tool_use_id":"toolu_proto",
          "tool_input":{"__proto__":{"command":"rm -rf /"},"x":1}}`,
      ),
    );
    const [row] = await handle.db
      .select()
      .from(events)
      .where(
        and(
          eq(events.projectId, projectId),
          like(events.eventKey, "%proto-hook%"),
        ),
      );

    expect(Object.keys(row.input as object).sort()).toEqual(["__proto__", "x"]);
    // The command sits under a key named __proto__, not in `command`: no
    // shell rule applies to it.
    const [session] = await handle.db
      .select()
      .from(agentSessions)
      .where(eq(agentSessions.externalId, "proto-hook"));
    expect(session.criticalFlagCount).toBe(0);
  });

  it("keeps an OTLP attribute named __proto__ and reads no attribute from it", async () => {
    const answer = await ingestOtlpTraces(handle.db, agent, {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: "5b8efff798038103d269b633813fc60c",
                  spanId: "eee19b7ec3c1b174",
                  name: "plain span",
                  startTimeUnixNano: "1796032800000000000",
                  endTimeUnixNano: "1796032800000000001",
                  attributes: [
                    {
                      key: "__proto__",
                      value: {
                        kvlistValue: {
                          values: [
                            {
                              key: "gen_ai.operation.name",
                              value: { stringValue: "chat" },
                            },
                          ],
                        },
                      },
                    },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
    expect(answer).toEqual({});
    const [row] = await handle.db
      .select()
      .from(events)
      .where(eq(events.spanId, "eee19b7ec3c1b174"));

    // An attribute the span does not have must not make it an LLM call.
    expect(row.type).toBe("span");
    expect(Object.keys(row.attributes as object)).toContain("__proto__");
  });

  it("stores an OTLP span whose session id starts with U+FEFF, without it", async () => {
    const answer = await ingestOtlpTraces(handle.db, agent, {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: "6c9f0008a9149214e37ac744924fd71d",
                  spanId: "fff2ac8fd4d2c285",
                  name: "bom",
                  startTimeUnixNano: "1796032800000000000",
                  endTimeUnixNano: "1796032800000000001",
                  attributes: [
                    {
                      key: "session.id",
                      value: { stringValue: "\ufeffbom-otlp-session" },
                    },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });

    expect(answer).toEqual({});
    const [session] = await handle.db
      .select()
      .from(agentSessions)
      .where(eq(agentSessions.externalId, "bom-otlp-session"));
    // A byte order mark at the start of an id is an encoding artefact,
    // dropped on both databases alike.
    expect(session?.externalId).toBe("bom-otlp-session");
  });

  it("stores a name, tool and model that start with U+FEFF without it, and their chain verifies", async () => {
    const result = await ingestEvents(handle.db, agent, {
      events: [
        llmCall("bom-fields", "bom-fields/1", {
          name: "\ufeffname",
          toolName: "\ufefftool",
          model: "\ufeffmodel",
        }),
      ],
    });
    expect(result.accepted).toBe(1);
    const row = await storedByKey("bom-fields/1");

    expect([row.name, row.toolName, row.model]).toEqual([
      "name",
      "tool",
      "model",
    ]);
    expect(await inconsistencies("bom-fields")).toEqual([]);
  });

  it("lists no empty session for a batch of replays sent under another session id", async () => {
    // Later than every other event here: first in the list.
    const later = "2026-12-02T00:00:00.000Z";
    await ingestEvents(handle.db, agent, {
      events: [llmCall("replay-home", "replay-wander/1", { time: later })],
    });
    const again = await ingestEvents(handle.db, agent, {
      events: [llmCall("replay-elsewhere", "replay-wander/1", { time: later })],
    });
    expect(again).toMatchObject({ accepted: 0, duplicate: 1 });
    const page = await listSessions(handle.db, viewer, { project: slug });

    expect(
      page.sessions
        .map((s: { externalId: string }) => s.externalId)
        .filter((id: string) => id.startsWith("replay-")),
    ).toEqual(["replay-home"]);
  });

  it("gives a session a title only with new events, never with a replay", async () => {
    await ingestEvents(handle.db, agent, {
      events: [llmCall("titled", "titled/1")],
    });
    const replay = await ingestEvents(handle.db, agent, {
      events: [llmCall("titled", "titled/1", { sessionTitle: "Replayed" })],
    });
    expect(replay).toMatchObject({ accepted: 0, duplicate: 1 });
    const titleOf = async () => {
      const [row] = await handle.db
        .select({ title: agentSessions.title })
        .from(agentSessions)
        .where(eq(agentSessions.externalId, "titled"));

      return row.title;
    };
    expect(await titleOf()).toBeNull();

    await ingestEvents(handle.db, agent, {
      events: [llmCall("titled", "titled/2", { sessionTitle: "Fixing CI" })],
    });
    expect(await titleOf()).toBe("Fixing CI");
    await ingestEvents(handle.db, agent, {
      events: [llmCall("titled", "titled/3", { sessionTitle: "Renamed" })],
    });
    expect(await titleOf()).toBe("Fixing CI");
  });
});

describe.each(testKinds)("ingest over HTTP under attack on %s", (kind) => {
  let handle: DatabaseHandle;
  let token: string;
  let revoked: string;
  let personal: string;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    const project = await makeProject(handle.db, `http-attack-${kind}`);
    token = (await makeAgent(handle.db, project.id, "runner")).secret;
    const gone = await makeAgent(handle.db, project.id, "gone");
    revoked = gone.secret;
    await handle.db
      .update(apiTokens)
      .set({ revokedAt: new Date() })
      .where(eq(apiTokens.id, gone.actor.tokenId));
    personal = (await makePerson(handle.db, `p@${kind}.test`, "admin")).secret;
  });
  afterAll(async () => {
    useDatabase(null);
    await handle.close();
  });

  type Handler = (
    request: Request,
    context: { params: Promise<Record<string, string>> },
  ) => Promise<Response>;

  async function send(
    handler: Handler,
    body: BodyInit,
    headers: Record<string, string>,
    auth: string | null = token,
  ) {
    const h = new Headers(headers);
    if (auth !== null) h.set("authorization", `Bearer ${auth}`);
    const response = await handler(
      new Request("http://localhost/ingest", {
        method: "POST",
        headers: h,
        body,
      }),
      { params: Promise.resolve({}) },
    );

    return {
      status: response.status,
      text: Buffer.from(await response.arrayBuffer()).toString("utf8"),
    };
  }

  const json = { "content-type": "application/json" };
  const protobuf = { "content-type": "application/x-protobuf" };
  const bomb = () => zlib.gzipSync(Buffer.alloc(50 * 1024 * 1024, 32));

  it("answers broken native batches with a 4xx that says what is wrong", async () => {
    const cases: [
      string,
      BodyInit,
      Record<string, string>,
      string | null,
      number,
      string,
    ][] = [
      ["garbage", "garbage", json, token, 400, "not valid JSON"],
      ["truncated", '{"events":[{"id":"a"', json, token, 400, "not valid JSON"],
      ["null", "null", json, token, 400, "events"],
      ["array", "[]", json, token, 400, "(root)"],
      ["events null", '{"events":null}', json, token, 400, "events"],
      [
        "bad source",
        '{"source":"BAD","events":[{}]}',
        json,
        token,
        400,
        "source",
      ],
      [
        "gzip bomb",
        bomb(),
        { ...json, "content-encoding": "gzip" },
        token,
        413,
        "decompressed",
      ],
      [
        "bad gzip",
        "not gzip",
        { ...json, "content-encoding": "gzip" },
        token,
        400,
        "gzip",
      ],
      ["brotli", "{}", { ...json, "content-encoding": "br" }, token, 415, "br"],
      ["no token", "{}", json, null, 401, "Authorization"],
      ["unknown token", "{}", json, "flt_nope", 401, "token"],
      ["revoked token", "{}", json, revoked, 403, "revoked"],
      ["personal token", "{}", json, personal, 403, "agent token"],
      [
        "1001 events",
        JSON.stringify({ events: Array.from({ length: 1001 }, () => ({})) }),
        json,
        token,
        413,
        "1000",
      ],
    ];
    for (const [name, body, headers, auth, status, says] of cases) {
      const answer = await send(postEvents, body, headers, auth);
      expect([name, answer.status], answer.text).toEqual([name, status]);
      expect(answer.text, name).toContain(says);
    }
  });

  it("rejects only the unreadable items of a native batch, by index", async () => {
    const deep = "[".repeat(5000) + "]".repeat(5000);
    const body = `{"events":[null,1,"s",[],{},
      {"id":"ok-1","sessionId":"http-ok","type":"message","time":"${at}"},
      {"id":"deep","sessionId":"http-ok","type":"message","time":"${at}","input":${deep}}]}`;
    const answer = await send(postEvents, body, {
      "content-type": "text/plain",
    });

    expect(answer.status).toBe(200);
    const result = JSON.parse(answer.text) as {
      accepted: number;
      rejections: { index: number; reason: string }[];
    };
    expect(result.accepted).toBe(1);
    expect(result.rejections.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 6]);
    expect(result.rejections[5].reason).toContain("input");
  });

  it("answers a native batch posted 20 times at once with 200 or 429, storing it once", async () => {
    const body = JSON.stringify({
      events: Array.from({ length: 20 }, (_, i) => ({
        id: `http-burst/${i}`,
        sessionId: "http-burst",
        type: "llm_call",
        time: at,
        model: "claude-sonnet-4-5",
        usage: { inputTokens: 3, outputTokens: 4 },
      })),
    });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => send(postEvents, body, json)),
    );
    const statuses = new Set(answers.map((a) => a.status));

    expect([...statuses].every((s) => s === 200 || s === 429)).toBe(true);
    const accepted = answers
      .filter((a) => a.status === 200)
      .reduce(
        (n, a) => n + (JSON.parse(a.text) as { accepted: number }).accepted,
        0,
      );
    expect(accepted).toBe(20);
  });

  it("stores a protobuf span's name that starts with U+FEFF as the JSON encoding does", async () => {
    const bytes = (text: string) => [...Buffer.from(text, "utf8")];
    const varint = (n: number) => {
      const out: number[] = [];
      while (n > 127) {
        out.push((n & 127) | 128);
        n >>>= 7;
      }

      return [...out, n];
    };
    const field = (number: number, content: number[]) => [
      (number << 3) | 2,
      ...varint(content.length),
      ...content,
    ];
    const fixed64 = (number: number, value: bigint) => {
      const buffer = Buffer.alloc(8);
      buffer.writeBigUInt64LE(value);

      return [(number << 3) | 1, ...buffer];
    };
    const spanId = "0102030405060708";
    const span = [
      ...field(1, [...Buffer.from("0f0e0d0c0b0a09080706050403020100", "hex")]),
      ...field(2, [...Buffer.from(spanId, "hex")]),
      ...field(5, bytes("\ufeffbom span")),
      ...fixed64(7, 1796032800000000000n),
      ...fixed64(8, 1796032800000000001n),
    ];
    const request = field(1, field(2, field(2, span)));
    const answer = await send(postTraces, Buffer.from(request), protobuf);

    expect(answer.status).toBe(200);
    const [row] = await handle.db
      .select()
      .from(events)
      .where(eq(events.spanId, spanId));
    expect(row.name).toBe("bom span");
  });

  it("answers broken OTLP requests with a 4xx in the request's encoding", async () => {
    const cases: [string, BodyInit, Record<string, string>, number, string][] =
      [
        [
          "text/plain",
          "{}",
          { "content-type": "text/plain" },
          415,
          "Content-Type",
        ],
        [
          "protobuf garbage",
          Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]),
          protobuf,
          400,
          "byte 1",
        ],
        ["json garbage", "{", json, 400, "not valid JSON"],
        ["json null", "null", json, 400, "expected a resource"],
        [
          "gzip bomb",
          bomb(),
          { ...json, "content-encoding": "gzip" },
          413,
          "decompressed",
        ],
        [
          "protobuf gzip bomb",
          zlib.gzipSync(Buffer.alloc(50 * 1024 * 1024, 0)),
          { ...protobuf, "content-encoding": "gzip" },
          413,
          "decompressed",
        ],
        [
          "bad deflate",
          "xx",
          { ...json, "content-encoding": "deflate" },
          400,
          "deflate",
        ],
      ];
    for (const [name, body, headers, status, says] of cases) {
      for (const handler of [postTraces, postLogs]) {
        const answer = await send(handler, body, headers);
        expect([name, answer.status], answer.text).toEqual([name, status]);
        expect(answer.text, name).toContain(says);
      }
    }
  });

  it("answers broken hook bodies with a 400 naming the field", async () => {
    const cases: [string, string, string][] = [
      ["array", "[]", "(root)"],
      [
        "number session",
        '{"session_id":1,"hook_event_name":"Stop"}',
        "session_id",
      ],
      [
        "blank session",
        '{"session_id":"   ","hook_event_name":"Stop"}',
        "session_id",
      ],
      [
        "long session",
        JSON.stringify({
          session_id: "s".repeat(301),
          hook_event_name: "Stop",
        }),
        "session_id",
      ],
      [
        "long tool_use_id",
        JSON.stringify({
          session_id: "s",
          hook_event_name: "PostToolUse",
          tool_use_id: "t".repeat(600),
        }),
        "tool_use_id",
      ],
      [
        "deep tool_input",
        `{"session_id":"s","hook_event_name":"PostToolUse","tool_input":${"[".repeat(100)}${"]".repeat(100)}}`,
        "tool_input",
      ],
      [
        "null event name",
        '{"session_id":"s","hook_event_name":null}',
        "hook_event_name",
      ],
    ];
    for (const [name, body, field] of cases) {
      const answer = await send(postHook, body, json);
      expect([name, answer.status], answer.text).toEqual([name, 400]);
      const error = (
        JSON.parse(answer.text) as {
          error: { details: { path: string }[] };
        }
      ).error;
      expect(
        error.details.map((d) => d.path),
        name,
      ).toContain(field);
    }
  });
});
