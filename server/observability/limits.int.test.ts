import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import type { DatabaseHandle } from "@/db/client";
import { agentSessions, events } from "@/db/schema";
import { DomainError } from "@/server/errors";
import { openTestDatabase, testKinds } from "@/tests/db";
import { receiveClaudeCodeHook } from "./hooks";
import { ingestEvents, type AgentActor } from "./ingest";
import { ingestOtlpLogs, ingestOtlpTraces } from "./otlp";
import { makeAgent, makeProject } from "./testing";

// Hostile inputs found by testing ingest: each one bad item must be
// rejected with its reason while the rest of the request is stored, never
// a 500, and replays must still store nothing new.

const time = "2026-11-29T10:00:00Z";
const nanos = "1796029200000000000"; // 2026-11-30T09:00:00Z

function nested(depth: number, leaf: unknown = "leaf"): unknown {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i += 1) value = [value];

  return value;
}

function nestedAnyValue(depth: number): unknown {
  let value: unknown = { stringValue: "leaf" };
  for (let i = 0; i < depth; i += 1) {
    value = { arrayValue: { values: [value] } };
  }

  return value;
}

function span(fields: Record<string, unknown>) {
  return {
    traceId: "5b8efff798038103d269b633813fc60c",
    spanId: "aab19b7ec3c1b175",
    startTimeUnixNano: nanos,
    endTimeUnixNano: nanos,
    name: "span",
    ...fields,
  };
}

function traces(spans: unknown[]) {
  return { resourceSpans: [{ scopeSpans: [{ spans }] }] };
}

function logRecord(attributes: Record<string, string>, extra = {}) {
  return {
    timeUnixNano: nanos,
    attributes: Object.entries(attributes).map(([key, value]) => ({
      key,
      value: { stringValue: value },
    })),
    ...extra,
  };
}

function logs(logRecords: unknown[]) {
  return { resourceLogs: [{ scopeLogs: [{ logRecords }] }] };
}

async function failure(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);

  return error as DomainError;
}

describe.each(testKinds)("observability ingest limits on %s", (kind) => {
  let handle: DatabaseHandle;
  let agent: AgentActor;
  let projectId: string;

  async function sessionRow(externalId: string) {
    const [row] = await handle.db
      .select()
      .from(agentSessions)
      .where(eq(agentSessions.externalId, externalId));

    return row;
  }

  async function eventsOf(externalId: string) {
    const session = await sessionRow(externalId);
    expect(session).toBeDefined();

    return handle.db
      .select()
      .from(events)
      .where(eq(events.sessionId, session.id))
      .orderBy(events.occurredAt, events.eventKey);
  }

  // Session totals equal the sum of their events, in exact 1e-8 USD.
  async function expectTotalsMatchEvents() {
    const sessions = await handle.db
      .select()
      .from(agentSessions)
      .where(eq(agentSessions.projectId, projectId));
    const stored = await handle.db
      .select()
      .from(events)
      .where(eq(events.projectId, projectId));
    const cents = (v: string | null) => {
      if (v === null) return 0n;
      const [whole, fraction = ""] = v.split(".");

      return BigInt(whole + fraction.padEnd(8, "0"));
    };
    for (const session of sessions) {
      const own = stored.filter((e) => e.sessionId === session.id);
      expect(session.eventCount).toBe(own.length);
      expect(cents(session.costUsd)).toBe(
        own.reduce((sum, e) => sum + cents(e.costUsd), 0n),
      );
    }
  }

  async function expectReplayStoresNothing(send: () => Promise<unknown>) {
    const before = await handle.db
      .select({ id: events.id })
      .from(events)
      .where(eq(events.projectId, projectId));
    await send();
    const after = await handle.db
      .select({ id: events.id })
      .from(events)
      .where(eq(events.projectId, projectId));
    expect(after).toHaveLength(before.length);
    await expectTotalsMatchEvents();
  }

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    const project = await makeProject(handle.db, `limits-${kind}`);
    projectId = project.id;
    agent = (await makeAgent(handle.db, project.id, "fuzzer")).actor;
  });
  afterAll(async () => handle.close());

  it("stores lone UTF-16 surrogates as U+FFFD from every source", async () => {
    const batch = {
      events: [
        {
          id: "sur-1",
          sessionId: "surrogates",
          type: "tool_call",
          time,
          name: "half \ud83d pair",
          input: { text: "x\ud800y", list: ["\udc00"] },
          attributes: { "key\udfff": "v" },
        },
        { id: "sur-2", sessionId: "surrogates", type: "message", time },
      ],
    };
    expect(await ingestEvents(handle.db, agent, batch)).toMatchObject({
      accepted: 2,
      rejected: 0,
    });
    const hook = await receiveClaudeCodeHook(handle.db, agent, {
      session_id: "surrogates",
      hook_event_name: "PostToolUse",
      tool_name: "Bash",
      tool_use_id: "toolu_sur",
      tool_input: { command: "echo \ud800" },
      tool_response: { stdout: "\udc00" },
    });
    expect(hook.result.accepted).toBe(1);
    const prompt = await receiveClaudeCodeHook(handle.db, agent, {
      session_id: "surrogates",
      hook_event_name: "UserPromptSubmit",
      prompt: "fix \ud800 this",
    });
    expect(prompt.result.accepted).toBe(1);
    const otlp = traces([
      span({
        spanId: "0000000000000001",
        attributes: [
          { key: "session.id", value: { stringValue: "surrogates" } },
          { key: "note", value: { stringValue: "x\ud800y" } },
        ],
      }),
    ]);
    expect(await ingestOtlpTraces(handle.db, agent, otlp)).toEqual({});

    const stored = await eventsOf("surrogates");
    expect(stored).toHaveLength(5);
    const first = stored.find((e) => e.eventKey === "sur-1");
    expect(first).toMatchObject({
      name: "half \ufffd pair",
      input: { text: "x\ufffdy", list: ["\ufffd"] },
      attributes: { "key\ufffd": "v" },
    });
    expect(stored.find((e) => e.toolName === "Bash")).toMatchObject({
      input: { command: "echo \ufffd" },
      output: { stdout: "\ufffd" },
    });
    expect(stored.find((e) => e.name === "user prompt")?.input).toBe(
      "fix \ufffd this",
    );
    expect(stored.find((e) => e.source === "otlp")?.attributes).toMatchObject({
      note: "x\ufffdy",
    });

    await expectReplayStoresNothing(async () => {
      await ingestEvents(handle.db, agent, batch);
      await ingestOtlpTraces(handle.db, agent, otlp);
    });
  });

  it("rejects token counts past the cap; totals never overflow", async () => {
    const base = { sessionId: "costly", type: "llm_call", time };
    const batch = {
      events: [
        { ...base, id: "cost-1", model: "gpt-4.1", usage: { inputTokens: 1 } },
        {
          ...base,
          id: "cost-2",
          model: "claude-opus-4-1",
          usage: { outputTokens: 1e12 },
        },
        // The most any one event may cost at the caps, on the dearest
        // model: 1e9 * (15 + 120 + 15 + 15 + 15) / 1e6 = $180,000.
        {
          ...base,
          id: "cost-3",
          model: "gpt-5-pro",
          usage: {
            inputTokens: 1e9,
            outputTokens: 1e9,
            cacheReadTokens: 1e9,
            cacheWrite5mTokens: 1e9,
            cacheWrite1hTokens: 1e9,
          },
        },
      ],
    };
    const result = await ingestEvents(handle.db, agent, batch);
    expect(result).toMatchObject({ accepted: 2, rejected: 1 });
    expect(result.rejections[0].index).toBe(1);
    expect(result.rejections[0].reason).toMatch(/^usage\.outputTokens: /);
    const stored = await eventsOf("costly");
    expect(stored.map((e) => e.costUsd)).toEqual([
      "0.00000200",
      "180000.00000000",
    ]);

    // Many large reported costs: the session total is past what a
    // numeric(16, 8) could hold, and the session keeps working.
    const reported = Array.from({ length: 150 }, (_, i) => ({
      ...base,
      id: `reported-${i}`,
      sessionId: "costly-total",
      costUsd: 1_000_000,
    }));
    expect(
      await ingestEvents(handle.db, agent, { events: reported }),
    ).toMatchObject({ accepted: 150, rejected: 0 });
    expect(
      await ingestEvents(handle.db, agent, {
        events: [
          { ...base, id: "reported-x", sessionId: "costly-total", costUsd: 1 },
        ],
      }),
    ).toMatchObject({ accepted: 1 });
    expect((await sessionRow("costly-total")).costUsd).toBe(
      "150000001.00000000",
    );

    // OTLP: token attributes and Claude Code's reported cost.
    const otlp = traces([
      span({
        spanId: "0000000000000002",
        attributes: [
          { key: "session.id", value: { stringValue: "costly" } },
          { key: "gen_ai.operation.name", value: { stringValue: "chat" } },
          { key: "gen_ai.request.model", value: { stringValue: "gpt-4o" } },
          {
            key: "gen_ai.usage.output_tokens",
            value: { intValue: "1000000000000" },
          },
        ],
      }),
      span({ spanId: "0000000000000003", name: "fine" }),
    ]);
    const answer = await ingestOtlpTraces(handle.db, agent, otlp);
    expect(answer.partialSuccess?.rejectedSpans).toBe(1);
    expect(answer.partialSuccess?.errorMessage).toMatch(
      /^span 0: usage\.outputTokens /,
    );
    const logAnswer = await ingestOtlpLogs(
      handle.db,
      agent,
      logs([
        logRecord({
          "event.name": "api_request",
          "session.id": "costly",
          model: "claude-opus-4-1",
          cost_usd: "1e20",
        }),
        logRecord({ "event.name": "user_prompt", "session.id": "costly" }),
      ]),
    );
    expect(logAnswer.partialSuccess).toMatchObject({ rejectedLogRecords: 1 });
    expect(logAnswer.partialSuccess?.errorMessage).toMatch(
      /^log record 0: costUsd /,
    );

    await expectReplayStoresNothing(async () => {
      await ingestEvents(handle.db, agent, batch);
      await ingestEvents(handle.db, agent, { events: reported });
      await ingestOtlpTraces(handle.db, agent, otlp);
    });
  });

  it("rejects identifiers too long for an index, from every source", async () => {
    const long = "t".repeat(3000);
    const hookError = await failure(
      receiveClaudeCodeHook(handle.db, agent, {
        session_id: "long-ids",
        hook_event_name: "PostToolUse",
        tool_name: "Bash",
        tool_use_id: long,
      }),
    );
    expect(hookError.status).toBe(400);
    expect(hookError.details).toEqual([
      {
        path: "tool_use_id",
        message: expect.stringMatching(/at most 512/) as unknown,
      },
    ]);

    const spanAnswer = await ingestOtlpTraces(
      handle.db,
      agent,
      traces([
        span({ traceId: long }),
        span({ traceId: "0000000000000000000000000000000a", spanId: long }),
        span({
          traceId: "0000000000000000000000000000000b",
          attributes: [
            { key: "session.id", value: { stringValue: "s".repeat(301) } },
          ],
        }),
        span({
          traceId: "0000000000000000000000000000000c",
          attributes: [
            { key: "session.id", value: { stringValue: "long-ids" } },
          ],
        }),
      ]),
    );
    expect(spanAnswer.partialSuccess?.rejectedSpans).toBe(3);
    expect(spanAnswer.partialSuccess?.errorMessage).toContain(
      "span 0: traceId is 3000 characters long; at most 512 are allowed",
    );
    expect(spanAnswer.partialSuccess?.errorMessage).toContain(
      "span 2: session id is 301 characters long",
    );
    const logAnswer = await ingestOtlpLogs(
      handle.db,
      agent,
      logs([
        logRecord({ "event.name": "user_prompt", "session.id": long }),
        logRecord({ "event.name": "user_prompt", "session.id": "long-ids" }),
      ]),
    );
    expect(logAnswer.partialSuccess).toMatchObject({
      rejectedLogRecords: 1,
      errorMessage: expect.stringMatching(
        /^log record 0: session id /,
      ) as unknown,
    });
    expect(await eventsOf("long-ids")).toHaveLength(2);
  });

  it("rejects event times PostgreSQL cannot store", async () => {
    const base = { sessionId: "times", type: "message" };
    const result = await ingestEvents(handle.db, agent, {
      events: [
        { ...base, id: "time-1", time: "0000-01-01T00:00:00Z" },
        { ...base, id: "time-2", time: "9999-12-31T23:59:59-14:00" },
        { ...base, id: "time-3", time: "1969-12-31T23:59:59Z" },
        { ...base, id: "time-4", time: "9999-12-31T23:59:59+14:00" },
        { ...base, id: "time-5", time },
      ],
    });
    expect(result).toMatchObject({ accepted: 2, rejected: 3 });
    expect(result.rejections.map((r) => r.index)).toEqual([0, 1, 2]);
    expect(result.rejections[1].reason).toBe(
      "time is year 10000 in UTC; events must happen between 1970 and 9999",
    );
    const answer = await ingestOtlpLogs(
      handle.db,
      agent,
      logs([
        logRecord({
          "event.name": "user_prompt",
          "session.id": "times",
          "event.timestamp": "0000-01-01T00:00:00Z",
        }),
      ]),
    );
    expect(answer.partialSuccess).toMatchObject({ rejectedLogRecords: 1 });
    expect((await sessionRow("times")).eventCount).toBe(2);
  });

  it("rejects payloads nested too deep, without overflowing the stack", async () => {
    const base = { sessionId: "deep", type: "tool_call", time };
    const result = await ingestEvents(handle.db, agent, {
      events: [
        { ...base, id: "deep-1", input: nested(5000) },
        { ...base, id: "deep-2", input: nested(64) },
        { ...base, id: "deep-3", attributes: { a: nested(65) } },
        { ...base, id: "deep-4", output: nested(65) },
      ],
    });
    expect(result).toMatchObject({ accepted: 1, rejected: 3 });
    expect(result.rejections).toEqual([
      { index: 0, reason: "input: nested deeper than 64 levels" },
      { index: 2, reason: "attributes.a: nested deeper than 64 levels" },
      { index: 3, reason: "output: nested deeper than 64 levels" },
    ]);

    const hookError = await failure(
      receiveClaudeCodeHook(handle.db, agent, {
        session_id: "deep",
        hook_event_name: "PreToolUse",
        tool_name: "Bash",
        tool_input: nested(200_000),
      }),
    );
    expect(hookError.status).toBe(400);
    expect(hookError.details).toEqual([
      { path: "tool_input", message: "nested deeper than 64 levels" },
    ]);

    const spanAnswer = await ingestOtlpTraces(
      handle.db,
      agent,
      traces([
        span({
          spanId: "0000000000000006",
          attributes: [
            { key: "session.id", value: { stringValue: "deep" } },
            { key: "deep", value: nestedAnyValue(65) },
          ],
        }),
        span({
          spanId: "0000000000000007",
          attributes: [
            { key: "session.id", value: { stringValue: "deep" } },
            { key: "deep", value: nestedAnyValue(64) },
          ],
        }),
        span({ spanId: "0000000000000008", junk: nested(100_000) }),
      ]),
    );
    expect(spanAnswer.partialSuccess?.rejectedSpans).toBe(2);
    expect(spanAnswer.partialSuccess?.errorMessage).toMatch(
      /^span 0: attribute values are nested deeper than 64 levels; span 2: /,
    );
    const logAnswer = await ingestOtlpLogs(
      handle.db,
      agent,
      logs([
        logRecord({
          "event.name": "tool_result",
          "session.id": "deep",
          tool_name: "Bash",
          tool_parameters: "[".repeat(5000) + "1" + "]".repeat(5000),
        }),
        logRecord(
          { "event.name": "user_prompt", "session.id": "deep" },
          {
            body: nested(100_000),
          },
        ),
        logRecord({ "event.name": "user_prompt", "session.id": "deep" }),
      ]),
    );
    expect(logAnswer.partialSuccess).toMatchObject({ rejectedLogRecords: 2 });
    expect(logAnswer.partialSuccess?.errorMessage).toMatch(
      /^log record 0: input is nested deeper than 64 levels; log record 1: /,
    );
    expect(await eventsOf("deep")).toHaveLength(3);
    await expectTotalsMatchEvents();
  });

  it("groups ids that become equal after cleaning as one", async () => {
    const base = { type: "message", time };
    const batch = {
      events: [
        { ...base, id: "same-1", sessionId: "col\u0000" },
        { ...base, id: "same-2", sessionId: "col\ufffd" },
        { ...base, id: "same-3", sessionId: "col\ud800" },
        { ...base, id: "key\u0000", sessionId: "col\ufffd" },
        { ...base, id: "key\ufffd", sessionId: "col\ufffd" },
      ],
    };
    expect(await ingestEvents(handle.db, agent, batch)).toMatchObject({
      accepted: 4,
      duplicate: 1,
      rejected: 0,
    });
    const session = await sessionRow("col\ufffd");
    expect(session.eventCount).toBe(4);
    await expectReplayStoresNothing(() =>
      ingestEvents(handle.db, agent, batch),
    );
  });

  it("counts every OTLP entry it cannot read as rejected", async () => {
    expect(
      await ingestOtlpTraces(handle.db, agent, {
        resourceSpans: [{ scopeSpans: [{ spans: [3, null, "x"] }] }],
      }),
    ).toEqual({
      partialSuccess: {
        rejectedSpans: 3,
        errorMessage:
          "span 0: resourceSpans[0].scopeSpans[0].spans[0] is a number, " +
          "not an object; span 1: resourceSpans[0].scopeSpans[0].spans[1] " +
          "is null, not an object; span 2: " +
          "resourceSpans[0].scopeSpans[0].spans[2] is a string, not an object",
      },
    });
    expect(
      await ingestOtlpTraces(handle.db, agent, {
        resourceSpans: [
          { scopeSpans: { spans: [] } },
          { scopeSpans: [{ spans: { 0: span({}) } }] },
          7,
          { scopeSpans: [null] },
          // Absent lists are empty, as OTLP/JSON allows.
          {},
          { scopeSpans: [{}] },
        ],
      }),
    ).toMatchObject({ partialSuccess: { rejectedSpans: 4 } });
    const mixed = await ingestOtlpLogs(handle.db, agent, {
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: [
                3,
                null,
                "x",
                logRecord({
                  "event.name": "user_prompt",
                  "session.id": "otlp-bad",
                }),
              ],
            },
          ],
        },
      ],
    });
    expect(mixed.partialSuccess).toMatchObject({ rejectedLogRecords: 3 });
    expect(mixed.partialSuccess?.errorMessage).toMatch(
      /^log record 0: resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\] is a number/,
    );
    expect(await eventsOf("otlp-bad")).toHaveLength(1);
  });
});
