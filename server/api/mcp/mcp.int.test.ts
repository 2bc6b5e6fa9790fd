import http from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import type { Actor } from "@/server/identity/actor";
import { indexDocuments } from "@/server/context";
import { createGoal } from "@/server/orchestration";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject, revokeToken } from "@/tests/fixtures";
import { DELETE, GET, POST } from "@/app/api/mcp/route";
import { POST as completeRoute } from "@/app/api/agent/v1/tasks/[id]/complete/route";

// The MCP server as a real MCP client meets it: the SDK's client over
// Streamable HTTP, against the route handler served on a loopback port.

const cli: Actor = { kind: "cli", label: "cli:test" };

const caching = `# Caching

Next.js caches data and rendered output.

## revalidateTag

Call \`revalidateTag(tag)\` inside a Server Action to purge every fetch
tagged with that tag. The next request fetches fresh data.
`;

const fonts = `# Fonts

Load Google fonts with next/font without layout shift.
`;

type Handler = (request: Request) => Promise<Response> | Response;
const handlers: Record<string, Handler> = { POST, GET, DELETE };

/** Serves the route handlers the way Next.js would: node request in, web
 * Request to the handler, web Response back out. */
async function startServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === "string") headers.set(name, value);
      else if (Array.isArray(value)) headers.set(name, value.join(", "));
    }
    const method = req.method ?? "GET";
    const handler = handlers[method];
    if (!handler) {
      res.writeHead(405).end();
      return;
    }
    const response = await handler(
      new Request(`http://127.0.0.1${req.url ?? "/"}`, {
        method,
        headers,
        body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
      }),
    );
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve()),
  );
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/api/mcp`,
    close: () =>
      new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      ),
  };
}

async function connect(url: string, secret: string): Promise<Client> {
  const client = new Client({ name: "flotilla-test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${secret}` } },
    }),
  );

  return client;
}

async function callTool(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
) {
  const result = (await client.callTool({
    name,
    arguments: args,
  })) as CallToolResult;
  const first = result.content[0];
  const text = first?.type === "text" ? first.text : "";

  return { text, isError: result.isError ?? false, result };
}

const uuidAfter = (text: string, word: string) =>
  new RegExp(`${word} ([0-9a-f-]{36})`).exec(text)?.[1] ?? "";

function initializeBody() {
  return JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "curl", version: "1" },
    },
  });
}

async function rawPost(url: string, authorization?: string) {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  };
  if (authorization) headers.authorization = authorization;

  return fetch(url, { method: "POST", headers, body: initializeBody() });
}

describe.each(testKinds)("MCP server on %s", (kind) => {
  let handle: DatabaseHandle;
  let server: { url: string; close(): Promise<void> };
  let alpha: Client;
  let beta: Client;
  let betaSecret: string;
  let revokedSecret: string;
  let goalId: string;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    const db = handle.db;
    const project = await makeProject(db);
    const a = await makeAgent(db, project.id, "alpha");
    const b = await makeAgent(db, project.id, "beta");
    const revoked = await makeAgent(db, project.id, "gone");
    await revokeToken(db, revoked.token.id);
    betaSecret = b.secret;
    revokedSecret = revoked.secret;
    goalId = (
      await createGoal(db, cli, { project: project.slug, title: "Ship MCP" })
    ).id;
    await indexDocuments(db, cli, {
      project: project.slug,
      files: [
        { path: "caching.md", content: caching },
        { path: "fonts.md", content: fonts },
      ],
    });
    server = await startServer();
    alpha = await connect(server.url, a.secret);
    beta = await connect(server.url, b.secret);
  });

  afterAll(async () => {
    await alpha?.close();
    await beta?.close();
    await server?.close();
    useDatabase(null);
    await handle?.close();
  });

  it("lists the tools with their input schemas", async () => {
    const { tools } = await alpha.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      "context_answer",
      "events_report",
      "goals_list",
      "task_claim",
      "task_complete",
      "task_create",
      "task_fail",
      "task_heartbeat",
      "task_release",
    ]);
    // Every client pays for the listing in tokens at start-up.
    expect(JSON.stringify(tools).length).toBeLessThan(6000);
    const create = tools.find((t) => t.name === "task_create");
    expect(create?.inputSchema.required).toEqual(["goalId", "title"]);
    expect(Object.keys(create?.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining(["description", "priority", "scope"]),
    );
  });

  it("creates, claims, heartbeats and completes a task", async () => {
    const created = await callTool(alpha, "task_create", {
      goalId,
      title: "Wire the MCP route",
      description: "Stateless, bearer-authenticated.",
      priority: 5,
      scope: ["app/api/mcp/**"],
      estimateUsd: 0.5,
    });
    expect(created.isError).toBe(false);
    const taskId = uuidAfter(created.text, "Created task");
    expect(taskId).not.toBe("");

    const claimed = await callTool(alpha, "task_claim", { goalId });
    expect(claimed.isError).toBe(false);
    expect(claimed.text).toContain(`Claimed task ${taskId} [claimed]`);
    expect(claimed.text).toContain("scope: app/api/mcp/**");
    expect(claimed.text).toContain("Stateless, bearer-authenticated.");
    const leaseId = uuidAfter(claimed.text, "lease");
    expect(leaseId).not.toBe("");

    const beat = await callTool(alpha, "task_heartbeat", {
      taskId,
      leaseId,
      ttlSeconds: 600,
    });
    expect(beat.text).toContain(`Extended task ${taskId} [in_progress]`);

    const done = await callTool(alpha, "task_complete", {
      taskId,
      result: "Route and tests in place",
    });
    expect(done).toMatchObject({
      isError: false,
      text: `Done: task ${taskId} [done] "Wire the MCP route"`,
    });
    expect(await callTool(alpha, "task_claim")).toMatchObject({
      isError: false,
      text: "No task is ready.",
    });

    const goals = await callTool(alpha, "goals_list", { status: "active" });
    expect(goals.text).toContain(`goal ${goalId} [active] "Ship MCP"`);
    expect(goals.text).toContain("1/1 done");
  });

  it("fails and releases held tasks", async () => {
    for (const title of ["Flaky one", "Hand back"]) {
      await callTool(alpha, "task_create", { goalId, title });
    }
    const first = await callTool(beta, "task_claim");
    const failedId = uuidAfter(first.text, "Claimed task");
    const failed = await callTool(beta, "task_fail", {
      taskId: failedId,
      reason: "Upstream API is down",
    });
    expect(failed.text).toMatch(/^Failed: task .* \[failed\]/);

    const second = await callTool(beta, "task_claim");
    const releasedId = uuidAfter(second.text, "Claimed task");
    expect(releasedId).not.toBe(failedId);
    const released = await callTool(beta, "task_release", {
      taskId: releasedId,
    });
    expect(released.text).toMatch(/^Released: task .* \[ready\]/);
  });

  it("answers tool errors with the HTTP API's code and message", async () => {
    const created = await callTool(alpha, "task_create", {
      goalId,
      title: "Held by alpha",
      priority: 100,
    });
    const taskId = uuidAfter(created.text, "Created task");
    const claimed = await callTool(alpha, "task_claim");
    expect(claimed.text).toContain(taskId);

    const mcp = await callTool(beta, "task_complete", { taskId });
    expect(mcp.isError).toBe(true);
    const response = await completeRoute(
      new Request(`http://test/api/agent/v1/tasks/${taskId}/complete`, {
        method: "POST",
        headers: { authorization: `Bearer ${betaSecret}` },
        body: "{}",
      }),
      { params: Promise.resolve({ id: taskId }) },
    );
    expect(response.status).toBe(409);
    const { error } = (await response.json()) as {
      error: { code: string; message: string };
    };
    expect(mcp.text).toBe(`conflict: ${error.message}`);
    expect(mcp.result.structuredContent).toMatchObject({
      error: { code: "conflict", message: error.message },
    });

    const invalid = await callTool(alpha, "task_heartbeat", {
      taskId: "not-a-uuid",
    });
    expect(invalid).toMatchObject({
      isError: true,
      text: "invalid_input: Invalid arguments: taskId: Must be a UUID",
    });
    expect(invalid.result.structuredContent).toMatchObject({
      error: { details: [{ path: "taskId", message: "Must be a UUID" }] },
    });
  });

  it("answers context questions with one section or a no-answer", async () => {
    const answer = await callTool(alpha, "context_answer", {
      q: "How do I purge fetches tagged with a tag?",
    });
    expect(answer.isError).toBe(false);
    expect(answer.text).toMatch(/^Caching > revalidateTag \(caching\.md:\d+/);
    expect(answer.text).toContain("section ");
    expect(answer.text).toContain("revalidateTag(tag)");
    expect(answer.text).not.toContain("Google fonts");

    const none = await callTool(alpha, "context_answer", {
      q: "kubernetes helm chart ingress annotations",
    });
    expect(none.isError).toBe(false);
    expect(none.text).toMatch(/^No answer: /);
  });

  it("reports a native event batch, item by item", async () => {
    const event = {
      id: "evt-1",
      sessionId: "sess-mcp",
      type: "tool_call",
      name: "Bash",
      time: "2026-01-02T03:04:05Z",
    };
    const report = await callTool(alpha, "events_report", {
      events: [event, { ...event, id: "evt-2", type: "no-such-type" }],
    });
    expect(report.isError).toBe(false);
    expect(report.text).toMatch(
      /^Accepted 1, duplicate 0, rejected 1\.\n- event #1: /,
    );
    const replay = await callTool(alpha, "events_report", { events: [event] });
    expect(replay.text).toBe("Accepted 0, duplicate 1, rejected 0.");

    const empty = await callTool(alpha, "events_report", { events: [] });
    expect(empty.isError).toBe(true);
    expect(empty.text).toMatch(/^invalid_input: Invalid event batch: events/);
  });

  it("refuses requests without a valid agent token", async () => {
    const missing = await rawPost(server.url);
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe(
      'Bearer realm="flotilla"',
    );
    expect(await missing.json()).toMatchObject({
      error: { code: "unauthenticated" },
    });

    const bad = await rawPost(server.url, `Bearer flt_${"x".repeat(32)}`);
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toBe(
      'Bearer realm="flotilla", error="invalid_token", ' +
        'error_description="Unknown token"',
    );
    expect(await bad.json()).toMatchObject({
      error: { code: "unauthenticated", message: "Unknown token" },
    });

    const revoked = await rawPost(server.url, `Bearer ${revokedSecret}`);
    expect(revoked.status).toBe(403);
    expect(await revoked.json()).toMatchObject({
      error: { code: "forbidden" },
    });

    await expect(connect(server.url, "flt_wrong")).rejects.toThrow();
  });

  it("is stateless: no session id, and GET or DELETE is not offered", async () => {
    const response = await rawPost(server.url, `Bearer ${betaSecret}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("mcp-session-id")).toBeNull();
    expect(await response.json()).toMatchObject({
      result: { serverInfo: { name: "flotilla" } },
    });

    const get = await fetch(server.url, {
      headers: { authorization: `Bearer ${betaSecret}` },
    });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
  });
});
