import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { createCaller } from "@/server/api/root";
import type { Actor } from "@/server/identity/actor";
import { POST as postEvents } from "@/app/api/agent/v1/events/route";
import { POST as postHook } from "@/app/api/agent/v1/hooks/claude-code/route";
import { POST as postTraces } from "@/app/api/otlp/v1/traces/route";
import { POST as postLogs } from "@/app/api/otlp/v1/logs/route";
import { GET as getSpend } from "@/app/api/v1/projects/[slug]/spend/route";
import { GET as getSessionRoute } from "@/app/api/v1/projects/[slug]/sessions/[id]/route";
import {
  makeAgent,
  makePerson,
  makeProject,
  readCase,
  readJsonLines,
} from "./testing";

// The HTTP surface of observability, called as Next.js calls the handlers.

type Params = Record<string, string>;

function call(
  handler: (
    request: Request,
    context: { params: Promise<Params> },
  ) => Promise<Response>,
  url: string,
  init: { method?: string; token?: string; body?: string; type?: string },
  params: Params = {},
) {
  const headers = new Headers();
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  if (init.body !== undefined) {
    headers.set("content-type", init.type ?? "application/json");
  }
  const request = new Request(`http://localhost${url}`, {
    method: init.method ?? "POST",
    headers,
    body: init.body,
  });

  return handler(request, { params: Promise.resolve(params) });
}

describe.each(testKinds)("observability routes on %s", (kind) => {
  let handle: DatabaseHandle;
  let agentToken: string;
  let viewerToken: string;
  let viewer: Extract<Actor, { kind: "user" }>;
  const slug = `obs-http-${kind}`;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    const project = await makeProject(handle.db, slug);
    agentToken = (await makeAgent(handle.db, project.id, "runner")).secret;
    const person = await makePerson(handle.db, `lead@${kind}.test`, "viewer");
    viewerToken = person.secret;
    viewer = person.actor;
  });
  afterAll(async () => {
    useDatabase(null);
    await handle.close();
  });

  it("answers Claude Code hooks; PreToolUse gets a permission decision", async () => {
    const bodies = readJsonLines("hooks/session-basic.jsonl");
    const answers: unknown[] = [];
    for (const body of bodies) {
      const response = await call(postHook, "/api/agent/v1/hooks/claude-code", {
        token: agentToken,
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
      answers.push(await response.json());
    }
    expect(answers[0]).toEqual({});
    expect(answers[2]).toEqual({
      hookSpecificOutput: {
        hookEventName: "PreToolUse",
        permissionDecision: "allow",
      },
    });
  });

  it("takes hooks and OTLP posts whose URL carries parameters of its own", async () => {
    // A hook URL tagged by its user, an exporter adding a parameter: the
    // events still land, and a PreToolUse is still decided.
    const [, , preToolUse] = readJsonLines("hooks/session-basic.jsonl");
    const hook = await call(
      postHook,
      "/api/agent/v1/hooks/claude-code?agent=builder&v=2",
      { token: agentToken, body: JSON.stringify(preToolUse) },
    );
    expect(hook.status).toBe(200);
    expect(await hook.json()).toMatchObject({
      hookSpecificOutput: { permissionDecision: "allow" },
    });
    const traces = await call(postTraces, "/api/otlp/v1/traces?x=1", {
      token: agentToken,
      body: readCase("otlp/genai-trace.json"),
    });
    expect(traces.status).toBe(200);
    const logs = await call(postLogs, "/api/otlp/v1/logs?tenant=a", {
      token: agentToken,
      body: readCase("otlp/claude-code-logs.json"),
    });
    expect(logs.status).toBe(200);
  });

  it("answers hostile bodies item by item over HTTP, never with a 500", async () => {
    // Raw JSON text, as an attacker would send it: token counts past the
    // cap, a year PostgreSQL cannot store, nesting deeper than any stack a
    // recursive walk could survive.
    const deep = "[".repeat(200_000) + "1" + "]".repeat(200_000);
    const events = await call(postEvents, "/api/agent/v1/events", {
      token: agentToken,
      body:
        '{"events":[' +
        '{"id":"bad-1","sessionId":"hostile","type":"message",' +
        '"time":"2026-11-30T10:00:00Z"},' +
        '{"id":"bad-2","sessionId":"hostile","type":"llm_call",' +
        '"time":"2026-11-30T10:00:00Z","model":"claude-opus-4-1",' +
        '"usage":{"outputTokens":1e12}},' +
        '{"id":"bad-3","sessionId":"hostile","type":"message",' +
        '"time":"0000-01-01T00:00:00Z"},' +
        `{"id":"bad-4","sessionId":"hostile","type":"tool_call",` +
        `"time":"2026-11-30T10:00:00Z","input":${"[".repeat(5000)}1${"]".repeat(5000)}}` +
        "]}",
    });
    expect(events.status).toBe(200);
    expect(await events.json()).toMatchObject({
      accepted: 1,
      rejected: 3,
      rejections: [{ index: 1 }, { index: 2 }, { index: 3 }],
    });

    const hook = await call(postHook, "/api/agent/v1/hooks/claude-code", {
      token: agentToken,
      body:
        '{"session_id":"hostile","hook_event_name":"PreToolUse",' +
        `"tool_name":"Bash","tool_input":${deep}}`,
    });
    // A PreToolUse Flotilla cannot decide is denied, never left to fail
    // open; the status it would have had travels in x-flotilla-status.
    expect(hook.status).toBe(200);
    expect(hook.headers.get("x-flotilla-status")).toBe("400");
    const refused = await hook.json();
    expect(refused.hookSpecificOutput).toMatchObject({
      hookEventName: "PreToolUse",
      permissionDecision: "deny",
    });
    expect(refused.hookSpecificOutput.permissionDecisionReason).toMatch(
      /^Flotilla could not approve this call: .*nested deeper than 64 levels/,
    );
    // So is one from a token Flotilla does not know; other events keep
    // their error status.
    const stranger = (event: string) =>
      call(postHook, "/api/agent/v1/hooks/claude-code", {
        token: "flt_unknown-token",
        body: JSON.stringify({
          session_id: "hostile",
          hook_event_name: event,
          tool_name: "Bash",
          tool_input: { command: "ls" },
        }),
      });
    const unknown = await stranger("PreToolUse");
    expect(unknown.status).toBe(200);
    expect(unknown.headers.get("x-flotilla-status")).toBe("401");
    expect((await unknown.json()).hookSpecificOutput.permissionDecision).toBe(
      "deny",
    );
    expect((await stranger("PostToolUse")).status).toBe(401);
    const longId = await call(postHook, "/api/agent/v1/hooks/claude-code", {
      token: agentToken,
      body: JSON.stringify({
        session_id: "hostile",
        hook_event_name: "PostToolUse",
        tool_use_id: "t".repeat(5000),
      }),
    });
    expect(longId.status).toBe(400);
    expect(await longId.json()).toMatchObject({
      error: { details: [{ path: "tool_use_id" }] },
    });

    const traces = await call(postTraces, "/api/otlp/v1/traces", {
      token: agentToken,
      body: '{"resourceSpans":[{"scopeSpans":[{"spans":[3,null,"x"]}]}]}',
    });
    expect(traces.status).toBe(200);
    expect(await traces.json()).toMatchObject({
      partialSuccess: { rejectedSpans: 3 },
    });
    const logs = await call(postLogs, "/api/otlp/v1/logs", {
      token: agentToken,
      body: '{"resourceLogs":[{"scopeLogs":[{"logRecords":[3,null,"x"]}]}]}',
    });
    expect(logs.status).toBe(200);
    expect(await logs.json()).toMatchObject({
      partialSuccess: { rejectedLogRecords: 3 },
    });
  });

  it("stores NUL and lone surrogates sent over HTTP as U+FFFD", async () => {
    // A free-form payload (tool output, a prompt) may hold anything; the
    // item is stored cleaned rather than the request refused.
    const events = await call(postEvents, "/api/agent/v1/events", {
      token: agentToken,
      body:
        '{"events":[{"id":"sur-1","sessionId":"x\\ud800y","type":"message",' +
        '"time":"2026-11-30T10:00:00Z","input":"a\\udc00b\\u0000"}]}',
    });
    expect(events.status).toBe(200);
    expect(await events.json()).toMatchObject({ accepted: 1, rejected: 0 });
    const hook = await call(postHook, "/api/agent/v1/hooks/claude-code", {
      token: agentToken,
      body:
        '{"session_id":"x\\ud800y","hook_event_name":"UserPromptSubmit",' +
        '"prompt":"fix \\ud800 this"}',
    });
    expect(hook.status).toBe(200);
  });

  it("accepts native batches and reports counts", async () => {
    const body = JSON.stringify({
      events: [
        {
          id: "h-1",
          sessionId: "http-1",
          type: "llm_call",
          time: "2026-11-30T10:00:00Z",
          model: "gpt-5",
          usage: { inputTokens: 1000, outputTokens: 1000 },
        },
        { id: "h-2", sessionId: "http-1", type: "nope", time: "x" },
      ],
    });
    const first = await call(postEvents, "/api/agent/v1/events", {
      token: agentToken,
      body,
    });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({
      accepted: 1,
      duplicate: 0,
      rejected: 1,
      rejections: [{ index: 1 }],
    });
    const replay = await call(postEvents, "/api/agent/v1/events", {
      token: agentToken,
      body,
    });
    expect(await replay.json()).toMatchObject({ accepted: 0, duplicate: 1 });
  });

  it.each([
    ["no token", {}, 401],
    ["a person's token", { person: true }, 403],
    ["bad JSON", { raw: "{" }, 400],
    ["no events field", { raw: "{}" }, 400],
    ["1,001 events", { count: 1001 }, 413],
  ])("answers %s with %i", async (_, options, status) => {
    const { person, raw, count } = options as {
      person?: boolean;
      raw?: string;
      count?: number;
    };
    const body =
      raw ??
      JSON.stringify({
        events: Array.from({ length: count ?? 1 }, (_, i) => ({ id: `x${i}` })),
      });
    const token =
      Object.keys(options).length === 0
        ? undefined
        : person
          ? viewerToken
          : agentToken;
    const response = await call(postEvents, "/api/agent/v1/events", {
      token,
      body,
    });
    expect(response.status).toBe(status);
    const answer = (await response.json()) as { error: { code: string } };
    expect(answer.error.code).toBeTruthy();
  });

  it("refuses a body over 1 MiB with 413", async () => {
    const response = await call(postEvents, "/api/agent/v1/events", {
      token: agentToken,
      body: JSON.stringify({ events: [{ input: "x".repeat(1024 * 1024) }] }),
    });
    expect(response.status).toBe(413);
  });

  it("ingests OTLP JSON traces and logs; refuses other types with 415", async () => {
    const traces = await call(postTraces, "/api/otlp/v1/traces", {
      token: agentToken,
      body: readCase("otlp/genai-trace.json"),
    });
    expect(traces.status).toBe(200);
    expect(await traces.json()).toEqual({});

    const logs = await call(postLogs, "/api/otlp/v1/logs", {
      token: agentToken,
      body: readCase("otlp/claude-code-logs.json"),
    });
    expect(await logs.json()).toEqual({});

    const partial = await call(postLogs, "/api/otlp/v1/logs", {
      token: agentToken,
      body: JSON.stringify({
        resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: {} }] }] }],
      }),
    });
    expect(await partial.json()).toMatchObject({
      partialSuccess: { rejectedLogRecords: 1 },
    });

    const text = await call(postTraces, "/api/otlp/v1/traces", {
      token: agentToken,
      body: "binary",
      type: "text/plain",
    });
    expect(text.status).toBe(415);
    const answer = (await text.json()) as { error: { message: string } };
    expect(answer.error.message).toContain("application/x-protobuf");
  });

  it("serves spend as JSON and CSV to a viewer with a personal token", async () => {
    const url = `/api/v1/projects/${slug}/spend`;
    const json = await call(
      getSpend,
      `${url}?from=2026-11-01&to=2026-12-31&group_by=model`,
      { method: "GET", token: viewerToken },
      { slug },
    );
    expect(json.status).toBe(200);
    const report = (await json.json()) as {
      rows: { model: string; costUsd: number }[];
      totals: { costUsd: number };
    };
    // gpt-5: 1000*1.25 + 1000*10 = 11250 micro-dollars.
    expect(report.rows.find((r) => r.model === "gpt-5")?.costUsd).toBe(0.01125);
    expect(report.totals.costUsd).toBeGreaterThan(0);

    const csv = await call(
      getSpend,
      `${url}?from=2026-11-01&to=2026-12-31&group_by=day,agent&format=csv`,
      { method: "GET", token: viewerToken },
      { slug },
    );
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const lines = (await csv.text()).trim().split("\r\n");
    expect(lines[0]).toMatch(/^day,agent_id,agent,cost_usd,/);
    expect(lines.length).toBeGreaterThan(1);

    const bad = await call(
      getSpend,
      `${url}?group_by=planet`,
      { method: "GET", token: viewerToken },
      { slug },
    );
    expect(bad.status).toBe(400);
    const badBody = (await bad.json()) as {
      error: { details: { path: string; message: string }[] };
    };
    expect(badBody.error.details[0].path).toBe("group_by");
    expect(badBody.error.details[0].message).toContain("day, agent, model");

    // A date that does not exist is named as such, not rolled forward.
    const impossible = await call(
      getSpend,
      `${url}?from=2026-02-30&to=2026-03-01`,
      { method: "GET", token: viewerToken },
      { slug },
    );
    expect(impossible.status).toBe(400);
    const impossibleBody = (await impossible.json()) as {
      error: { details: { path: string }[] };
    };
    expect(impossibleBody.error.details[0].path).toBe("from");

    const agentAsked = await call(
      getSpend,
      url,
      { method: "GET", token: agentToken },
      { slug },
    );
    expect(agentAsked.status).toBe(403);
  });

  it("serves a session with its events", async () => {
    const sessionId = "7d3f2a10-5b8e-4c61-9a2f-0e1d4c5b6a70";
    const response = await call(
      getSessionRoute,
      `/api/v1/projects/${slug}/sessions/${sessionId}`,
      { method: "GET", token: viewerToken },
      { slug, id: sessionId },
    );
    expect(response.status).toBe(200);
    const detail = (await response.json()) as {
      session: { eventCount: number; errorCount: number };
      events: { type: string }[];
    };
    expect(detail.session).toMatchObject({ eventCount: 15, errorCount: 1 });
    expect(detail.events).toHaveLength(15);

    const missing = await call(
      getSessionRoute,
      `/api/v1/projects/${slug}/sessions/nope`,
      { method: "GET", token: viewerToken },
      { slug, id: "nope" },
    );
    expect(missing.status).toBe(404);
  });

  it("serves the console the same sessions and spend over tRPC", async () => {
    const trpc = createCaller({ db: handle.db, actor: viewer });
    const { sessions } = await trpc.observability.sessions.list({
      project: slug,
    });
    expect(sessions.map((s) => s.externalId)).toContain("conv-2f9a");
    const detail = await trpc.observability.sessions.detail({
      project: slug,
      sessionId: "conv-2f9a",
    });
    expect(detail.events).toHaveLength(4);
    const spend = await trpc.observability.spend({
      project: slug,
      from: "2026-11-01",
      to: "2026-12-31",
      groupBy: ["day", "model"],
    });
    expect(spend.rows.length).toBeGreaterThan(0);
    await expect(
      createCaller({ db: handle.db, actor: null }).observability.spend({
        project: slug,
      }),
    ).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });
});
