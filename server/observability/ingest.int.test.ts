import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import type { DatabaseHandle } from "@/db/client";
import { agentSessions, events } from "@/db/schema";
import { DomainError } from "@/server/errors";
import { setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { receiveClaudeCodeHook } from "./hooks";
import { ingestEvents, type AgentActor } from "./ingest";
import { transcriptUsageEvents } from "./normalize/claude-code-transcript";
import { ingestOtlpLogs, ingestOtlpTraces } from "./otlp";
import { verifySessionChain } from "./chain";
import { getSession } from "./sessions";
import { projectSpend, spendCsv } from "./spend";
import {
  makeAgent,
  makePerson,
  makeProject,
  makeTask,
  pauseAgent,
  readCase,
  readJsonLines,
  steppingClock,
} from "./testing";

const hookSession = "7d3f2a10-5b8e-4c61-9a2f-0e1d4c5b6a70";
const logSession = "c0ffee00-1111-4a2b-8c3d-000000000042";

async function sessionRow(handle: DatabaseHandle, externalId: string) {
  const [row] = await handle.db
    .select()
    .from(agentSessions)
    .where(eq(agentSessions.externalId, externalId));

  return row;
}

async function eventsOf(handle: DatabaseHandle, sessionId: string) {
  return handle.db
    .select()
    .from(events)
    .where(eq(events.sessionId, sessionId))
    .orderBy(events.occurredAt);
}

describe.each(testKinds)("observability ingest on %s", (kind) => {
  let handle: DatabaseHandle;
  let agent: AgentActor;
  let projectId: string;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    const project = await makeProject(handle.db, "obs");
    projectId = project.id;
    agent = (await makeAgent(handle.db, project.id, "builder")).actor;
  });
  afterAll(async () => handle.close());
  afterEach(() => setClock(null));

  it("records every Claude Code hook of a session, once", async () => {
    setClock(steppingClock("2026-11-30T09:14:00.000Z"));
    const bodies = readJsonLines("hooks/session-basic.jsonl");
    const answers = [];
    for (const body of bodies) {
      answers.push(await receiveClaudeCodeHook(handle.db, agent, body));
    }

    expect(answers.map((a) => a.result.accepted)).toEqual(bodies.map(() => 1));
    const preToolUse = answers.filter(
      (_, i) =>
        (bodies[i] as { hook_event_name: string }).hook_event_name ===
        "PreToolUse",
    );
    expect(preToolUse).toHaveLength(4);
    for (const { answer } of preToolUse) {
      expect(answer).toEqual({
        hookSpecificOutput: {
          hookEventName: "PreToolUse",
          permissionDecision: "allow",
        },
      });
    }
    expect(answers[0].answer).toEqual({});

    const session = await sessionRow(handle, hookSession);
    expect(session).toMatchObject({
      source: "claude-code",
      eventCount: 15,
      errorCount: 1,
      title: "Add pagination to GET /orders and update the API docs",
    });
    expect(session.endedAt).not.toBeNull();
    const stored = await eventsOf(handle, session.id);
    expect(stored.map((e) => e.type)).toEqual([
      "session_start",
      "message",
      "guardrail_decision",
      "tool_call",
      "guardrail_decision",
      "file_change",
      "guardrail_decision",
      "tool_call",
      "subagent",
      "subagent",
      "guardrail_decision",
      "file_change",
      "notification",
      "message",
      "session_end",
    ]);
    const failed = stored.filter((e) => e.status === "error");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      toolName: "Bash",
      output: {
        error:
          "Command failed with exit code 1: 2 failing tests in orders.test.ts",
      },
      input: { command: "npm test -- orders" },
    });
    expect(stored.every((e) => e.agentId === agent.agentId)).toBe(true);

    // Claude Code retries a hook it got no answer to: nothing new is stored.
    for (const body of bodies) {
      const again = await receiveClaudeCodeHook(handle.db, agent, body);
      expect(again.result).toMatchObject({ accepted: 0, duplicate: 1 });
    }
    expect((await sessionRow(handle, hookSession)).eventCount).toBe(15);
  });

  it("tolerates unknown hook fields and events, refuses a body with no session", async () => {
    const odd = await receiveClaudeCodeHook(handle.db, agent, {
      session_id: "odd-session",
      hook_event_name: "PreCompact",
      trigger: "auto",
      brand_new_field: { nested: true },
    });
    expect(odd.result.accepted).toBe(1);
    await expect(
      receiveClaudeCodeHook(handle.db, agent, { hook_event_name: "Stop" }),
    ).rejects.toMatchObject({ code: "invalid_input" });
  });

  it("prices transcript usage into the same session, exactly", async () => {
    const batch = {
      source: "claude-code-transcript",
      events: transcriptUsageEvents(
        readJsonLines("hooks/transcript-usage.jsonl"),
      ),
    };
    const result = await ingestEvents(handle.db, agent, batch);
    expect(result).toEqual({
      accepted: 4,
      duplicate: 0,
      rejected: 0,
      rejections: [],
    });

    const session = await sessionRow(handle, hookSession);
    const usage = (await eventsOf(handle, session.id)).filter(
      (e) => e.type === "llm_call",
    );
    // Sonnet 4.5 ($3 / $15 / read $0.30 / 5m write $3.75) and Haiku 4.5
    // ($1 / $5), worked by hand:
    // a-0001: 3*3 + 96*15 + 18234*3.75 = 69826.5 micro-dollars
    // a-0002: 5*3 + 412*15 + 18234*0.3 + 2310*3.75 = 20327.7
    // a-0003: 1840*1 + 158*5 = 2630
    // a-0004: 7*3 + 233*15 + 20544*0.3 + 1022*3.75 = 13511.7
    expect(usage.map((e) => [e.model, e.costUsd, e.costSource])).toEqual([
      ["claude-sonnet-4-5-20250929", "0.06982650", "computed"],
      ["claude-sonnet-4-5-20250929", "0.02032770", "computed"],
      ["claude-haiku-4-5-20251001", "0.00263000", "computed"],
      ["claude-sonnet-4-5-20250929", "0.01351170", "computed"],
    ]);
    expect(usage[0]).toMatchObject({
      inputTokens: 3,
      outputTokens: 96,
      cacheReadTokens: 0,
      cacheWrite5mTokens: 18234,
      cacheWrite1hTokens: 0,
    });
    expect(session.costUsd).toBe("0.10629590");
    expect(session.eventCount).toBe(19);

    const replay = await ingestEvents(handle.db, agent, batch);
    expect(replay).toMatchObject({ accepted: 0, duplicate: 4, rejected: 0 });
    expect((await sessionRow(handle, hookSession)).costUsd).toBe("0.10629590");
  });

  it("maps an OTLP GenAI trace, with int64 as strings and numbers", async () => {
    const trace = JSON.parse(readCase("otlp/genai-trace.json")) as unknown;
    expect(await ingestOtlpTraces(handle.db, agent, trace)).toEqual({});

    const session = await sessionRow(handle, "conv-2f9a");
    const stored = await eventsOf(handle, session.id);
    expect(
      stored.map((e) => [e.type, e.model, e.status, e.costUsd, e.durationMs]),
    ).toEqual([
      ["agent_run", null, "ok", null, 62500],
      // 110 uncached*3 + 812*15 + 20100*0.30 + 4100*3.75 = 33915 micro-$
      ["llm_call", "claude-sonnet-4-5-20250929", "ok", "0.03391500", 9800],
      ["tool_call", null, "error", null, 31000],
      // 3120*0.15 + 241*0.60 = 612.6 micro-$
      ["llm_call", "gpt-4o-mini", "ok", "0.00061260", 1600],
    ]);
    expect(stored[1]).toMatchObject({
      provider: "anthropic",
      inputTokens: 110,
      cacheReadTokens: 20100,
      cacheWrite5mTokens: 4100,
      outputTokens: 812,
      eventKey: "otlp:5b8efff798038103d269b633813fc60c:aab19b7ec3c1b175",
      parentSpanId: "eee19b7ec3c1b174",
    });
    expect(stored[2]).toMatchObject({
      toolName: "run_tests",
      output: {
        error: "tests failed",
        exceptions: [{ type: "TestFailure", message: "3 of 212 tests failed" }],
      },
    });
    expect(stored[3]).toMatchObject({ provider: "openai", inputTokens: 3120 });
    expect(stored[0].occurredAt.toISOString()).toBe("2026-11-30T09:00:00.000Z");
    expect(session).toMatchObject({
      source: "otlp",
      eventCount: 4,
      errorCount: 1,
      costUsd: "0.03452760",
    });

    expect(await ingestOtlpTraces(handle.db, agent, trace)).toEqual({});
    expect((await sessionRow(handle, "conv-2f9a")).eventCount).toBe(4);
  });

  it("maps Claude Code's OTLP log events and keeps the reported cost", async () => {
    const logs = JSON.parse(readCase("otlp/claude-code-logs.json")) as unknown;
    expect(await ingestOtlpLogs(handle.db, agent, logs)).toEqual({});

    const session = await sessionRow(handle, logSession);
    const stored = await eventsOf(handle, session.id);
    expect(
      stored.map((e) => [e.type, e.status, e.costUsd, e.costSource]),
    ).toEqual([
      ["message", "ok", null, "none"],
      ["llm_call", "ok", "0.41235000", "reported"],
      ["tool_call", "error", null, "none"],
      ["error", "error", null, "none"],
    ]);
    expect(stored[1]).toMatchObject({
      model: "claude-opus-4-1-20250805",
      inputTokens: 12,
      outputTokens: 1180,
      cacheReadTokens: 15022,
      cacheWrite5mTokens: 9120,
      durationMs: 4120,
    });
    expect(stored[1].occurredAt.toISOString()).toBe("2026-11-30T09:01:44.200Z");
    expect(stored[2]).toMatchObject({
      toolName: "Bash",
      output: { error: "Exit code 2" },
    });
    expect(session).toMatchObject({
      eventCount: 4,
      errorCount: 2,
      costUsd: "0.41235000",
    });

    expect(await ingestOtlpLogs(handle.db, agent, logs)).toEqual({});
    expect((await sessionRow(handle, logSession)).eventCount).toBe(4);
  });

  it("reports OTLP items it cannot read as a partial success", async () => {
    const answer = await ingestOtlpTraces(handle.db, agent, {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: "ab",
                  spanId: "01",
                  startTimeUnixNano: "1796029200000000000",
                  name: "ok",
                },
                { spanId: "02", name: "no trace" },
              ],
            },
          ],
        },
      ],
    });
    expect(answer).toEqual({
      partialSuccess: {
        rejectedSpans: 1,
        errorMessage: "span 1: missing or invalid traceId, startTimeUnixNano",
      },
    });
    await expect(
      ingestOtlpTraces(handle.db, agent, { spans: [] }),
    ).rejects.toMatchObject({ code: "invalid_input" });
  });

  it("accepts, deduplicates and rejects native items one by one", async () => {
    const base = {
      sessionId: "native-1",
      type: "llm_call",
      time: "2026-11-29T10:00:00Z",
    };
    const result = await ingestEvents(handle.db, agent, {
      events: [
        {
          ...base,
          id: "n-1",
          model: "gpt-4.1",
          usage: { inputTokens: 1000, outputTokens: 100 },
        },
        {
          ...base,
          id: "n-2",
          model: "llama-3.1-70b",
          usage: { inputTokens: 50 },
        },
        { ...base, id: "n-1", model: "gpt-4.1" },
        { ...base, id: "n-3", type: "teleport" },
        { ...base, id: "n-4", time: "yesterday" },
        { ...base, id: "n-5", type: "error", status: "error", name: "boom" },
      ],
    });
    expect(result).toMatchObject({ accepted: 3, duplicate: 1, rejected: 2 });
    expect(result.rejections.map((r) => r.index)).toEqual([3, 4]);
    expect(result.rejections[0].reason).toMatch(/^type: /);
    expect(result.rejections[1].reason).toMatch(/^time: /);

    const session = await sessionRow(handle, "native-1");
    // gpt-4.1: 1000*2 + 100*8 = 2800 micro-dollars; llama is unpriced.
    expect(session).toMatchObject({
      eventCount: 3,
      errorCount: 1,
      unpricedCount: 1,
      costUsd: "0.00280000",
    });
    const unpriced = (await eventsOf(handle, session.id)).find(
      (e) => e.model === "llama-3.1-70b",
    );
    expect(unpriced).toMatchObject({ costUsd: null, costSource: "unpriced" });
  });

  it("stores text and JSON that array literals treat specially as sent", async () => {
    // Keys, names and content holding quotes, backslashes, braces, commas,
    // the word NULL and non-ASCII text, beside JSON null and JSON strings.
    const awkward = [
      "NULL",
      'a,b{c}"d"\\e',
      "  spaced  ",
      "line\nbreak\ttab",
      "ünïcödé ☃ \u2028",
    ];
    const result = await ingestEvents(handle.db, agent, {
      events: awkward.map((text, i) => ({
        id: `${text}#${i}`,
        sessionId: "awkward-1",
        type: "tool_call",
        name: text,
        toolName: text,
        time: `2026-11-29T11:00:0${i}Z`,
        input: { [text]: text, list: [text, null, 1.5], nested: { q: '"' } },
        output: i % 2 === 0 ? text : { text },
      })),
    });
    expect(result).toMatchObject({ accepted: awkward.length, rejected: 0 });

    const session = await sessionRow(handle, "awkward-1");
    const stored = await eventsOf(handle, session.id);
    expect(stored.map((e) => [e.eventKey, e.name, e.toolName])).toEqual(
      // Event ids are trimmed as they are read; names are kept as sent.
      awkward.map((text, i) => [`${text}#${i}`.trim(), text, text]),
    );
    stored.forEach((event, i) => {
      const text = awkward[i];
      expect(event.input).toEqual({
        [text]: text,
        list: [text, null, 1.5],
        nested: { q: '"' },
      });
      expect(event.output).toEqual(i % 2 === 0 ? text : { text });
    });
    expect(
      await verifySessionChain(handle.db, agent, {
        project: "obs",
        sessionId: session.id,
      }),
    ).toMatchObject({ verified: true, length: awkward.length });
  });

  it("chains only the new events of a batch that repeats some earlier ones", async () => {
    const event = (id: string, second: number) => ({
      id,
      sessionId: "replay-mix",
      type: "tool_call",
      name: "Bash",
      time: `2026-11-29T12:00:${String(second).padStart(2, "0")}Z`,
      input: { command: `echo ${id}` },
    });
    const first = await ingestEvents(handle.db, agent, {
      events: [event("m-b", 1), event("m-d", 2)],
    });
    expect(first).toMatchObject({ accepted: 2, duplicate: 0 });
    // Keys sort around the replayed ones: a, b (replay), c, d (replay), e.
    const second = await ingestEvents(handle.db, agent, {
      events: [
        event("m-e", 5),
        event("m-b", 1),
        event("m-a", 3),
        event("m-d", 2),
        event("m-c", 4),
      ],
    });
    expect(second).toMatchObject({ accepted: 3, duplicate: 2 });
    const replay = await ingestEvents(handle.db, agent, {
      events: [event("m-a", 3), event("m-e", 5)],
    });
    expect(replay).toMatchObject({ accepted: 0, duplicate: 2 });

    const session = await sessionRow(handle, "replay-mix");
    expect(session).toMatchObject({ eventCount: 5, chainLength: 5 });
    const stored = await eventsOf(handle, session.id);
    // Arrival order: the first batch, then the new events of the second in
    // the order they were sent.
    const bySeq = [...stored].sort((a, b) => a.chainSeq! - b.chainSeq!);
    expect(bySeq.map((e) => [e.chainSeq, e.eventKey])).toEqual([
      [1, "m-b"],
      [2, "m-d"],
      [3, "m-e"],
      [4, "m-a"],
      [5, "m-c"],
    ]);
    expect(session.chainHead).toBe(bySeq[4].chainHash);
    expect(
      await verifySessionChain(handle.db, agent, {
        project: "obs",
        sessionId: session.id,
      }),
    ).toMatchObject({ verified: true, length: 5 });
  });

  it("refuses a batch over 1,000 events with payload_too_large", async () => {
    const events = Array.from({ length: 1001 }, (_, i) => ({ id: `big-${i}` }));
    const error = await ingestEvents(handle.db, agent, { events }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).status).toBe(413);
  });

  it("links events to the named task, else the task the agent holds", async () => {
    const named = await makeTask(handle.db, projectId, "Named task");
    const held = await makeTask(handle.db, projectId, "Held task", {
      agentId: agent.agentId,
      claimedAt: new Date("2026-11-29T11:15:00Z"),
      leaseExpiresAt: new Date("2026-11-29T12:00:00Z"),
    });
    const base = { sessionId: "tasks-1", type: "message" as const };
    const result = await ingestEvents(handle.db, agent, {
      events: [
        {
          ...base,
          id: "t-1",
          time: "2026-11-29T11:00:00Z",
          taskId: named.task.id,
        },
        { ...base, id: "t-2", time: "2026-11-29T11:30:00Z" },
        { ...base, id: "t-3", time: "2026-11-29T13:00:00Z" },
        { ...base, id: "t-0", time: "2026-11-29T11:10:00Z" },
        {
          ...base,
          id: "t-4",
          time: "2026-11-29T11:00:00Z",
          taskId: "00000000-0000-4000-8000-000000000000",
        },
      ],
    });
    expect(result).toMatchObject({ accepted: 4, rejected: 1 });
    expect(result.rejections[0]).toEqual({
      index: 4,
      reason:
        "taskId 00000000-0000-4000-8000-000000000000 is not a task of this project",
    });
    const session = await sessionRow(handle, "tasks-1");
    const stored = await eventsOf(handle, session.id);
    // Before the claim and after the lease expired: no task.
    expect(stored.map((e) => [e.eventKey, e.taskId, e.goalId])).toEqual([
      ["t-1", named.task.id, named.goal.id],
      ["t-0", null, null],
      ["t-2", held.task.id, held.goal.id],
      ["t-3", null, null],
    ]);
  });

  it("denies PreToolUse for a paused agent, with the reason", async () => {
    const project = await makeProject(handle.db, "obs-paused");
    const paused = await makeAgent(handle.db, project.id, "idle");
    await pauseAgent(handle.db, paused.actor.agentId, "over budget");
    const receipt = await receiveClaudeCodeHook(handle.db, paused.actor, {
      session_id: "paused-1",
      hook_event_name: "PreToolUse",
      tool_name: "Bash",
      tool_input: { command: "rm -rf build" },
      tool_use_id: "toolu_paused",
    });
    expect(receipt.answer).toEqual({
      hookSpecificOutput: {
        hookEventName: "PreToolUse",
        permissionDecision: "deny",
        permissionDecisionReason:
          "Agent idle is paused by an operator: over budget",
      },
    });
    const session = await sessionRow(handle, "paused-1");
    const [event] = await eventsOf(handle, session.id);
    expect(event).toMatchObject({
      type: "guardrail_decision",
      status: "denied",
      output: { permissionDecision: "deny", rule: "agent.paused" },
    });
  });

  it("sums spend by day, agent, model and goal, equal to the sessions", async () => {
    const { actor: viewer } = await makePerson(
      handle.db,
      `lead-${kind}@example.com`,
      "viewer",
    );
    const range = { project: "obs", from: "2026-11-01", to: "2026-12-31" };

    const byModel = await projectSpend(handle.db, viewer, {
      ...range,
      groupBy: "model",
    });
    const costs = Object.fromEntries(
      byModel.rows.map((r) => [r.model, r.costUsd]),
    );
    expect(costs).toEqual({
      "claude-opus-4-1-20250805": 0.41235,
      "claude-sonnet-4-5-20250929": 0.1375809,
      "gpt-4.1": 0.0028,
      "claude-haiku-4-5-20251001": 0.00263,
      "gpt-4o-mini": 0.0006126,
      "llama-3.1-70b": null,
    });
    expect(byModel.rows.find((r) => r.model === "llama-3.1-70b")).toMatchObject(
      {
        calls: 1,
        unpricedCalls: 1,
      },
    );

    // 0.10629590 + 0.03452760 + 0.41235 + 0.0028 = 0.5559735
    expect(byModel.totals.costUsd).toBe(0.5559735);
    const sessions = await handle.db.select().from(agentSessions);
    const sessionSum = sessions
      .filter((s) => s.projectId === projectId)
      .reduce((sum, s) => sum + Math.round(Number(s.costUsd) * 1e8), 0);
    expect(sessionSum / 1e8).toBe(0.5559735);

    const byDay = await projectSpend(handle.db, viewer, {
      ...range,
      groupBy: ["day", "agent"],
    });
    expect(byDay.rows.map((r) => [r.day, r.agent, r.costUsd])).toEqual([
      ["2026-11-29", "builder", 0.0028],
      ["2026-11-30", "builder", 0.5531735],
    ]);

    const csv = spendCsv(byDay);
    expect(csv.split("\r\n")[0]).toBe(
      "day,agent_id,agent,cost_usd,calls,unpriced_calls,input_tokens," +
        "output_tokens,cache_read_tokens,cache_write_tokens",
    );
    expect(csv.split("\r\n")[2]).toBe(
      `2026-11-30,${agent.agentId},builder,0.55317350,7,0,` +
        // tokens: 1855+3230+12 in, 899+1053+1180 out, 38778+20100+15022
        // read, 21566+4100+9120 written
        "5097,3132,73900,34786",
    );

    const byGoal = await projectSpend(handle.db, viewer, {
      ...range,
      groupBy: "goal",
    });
    expect(byGoal.rows.every((r) => r.goal === null)).toBe(true);

    const outsider = await makePerson(
      handle.db,
      `other-${kind}@example.com`,
      "viewer",
    );
    const otherProject = await makeProject(handle.db, `obs-other-${kind}`);
    const empty = await projectSpend(handle.db, outsider.actor, {
      project: otherProject.slug,
    });
    expect(empty.rows).toEqual([]);
    expect(empty.totals.costUsd).toBeNull();
  });

  it("returns a session with its events, by either id", async () => {
    const { actor: viewer } = await makePerson(
      handle.db,
      `reader-${kind}@example.com`,
      "viewer",
    );
    const byExternal = await getSession(handle.db, viewer, {
      project: "obs",
      sessionId: hookSession,
    });
    expect(byExternal.session.eventCount).toBe(19);
    expect(byExternal.events).toHaveLength(19);
    expect(byExternal.session.costUsd).toBe(0.1062959);
    const byId = await getSession(handle.db, viewer, {
      project: "obs",
      sessionId: byExternal.session.id,
    });
    expect(byId.session.externalId).toBe(hookSession);
    await expect(
      getSession(handle.db, viewer, { project: "obs", sessionId: "nope" }),
    ).rejects.toMatchObject({ code: "not_found" });
  });
});
