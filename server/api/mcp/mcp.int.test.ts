import http from "node:http";
import type { AddressInfo } from "node:net";
import {
  discoverOAuthProtectedResourceMetadata,
  extractWWWAuthenticateParams,
} from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { countTokens } from "gpt-tokenizer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import type { Actor } from "@/server/identity/actor";
import { indexDocuments } from "@/server/context";
import { createGoal, sendDirective } from "@/server/orchestration";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject, revokeToken } from "@/tests/fixtures";
import { DELETE, GET, POST } from "@/app/api/mcp/route";
import { GET as rootMetadata } from "@/app/.well-known/oauth-protected-resource/route";
import { GET as mcpMetadata } from "@/app/.well-known/oauth-protected-resource/api/mcp/route";
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
// The RFC 9728 documents, by path; everything else is the MCP route.
const wellKnown: Record<string, Handler> = {
  "/.well-known/oauth-protected-resource": rootMetadata,
  "/.well-known/oauth-protected-resource/api/mcp": mcpMetadata,
};

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
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    const metadata = method === "GET" ? wellKnown[path] : undefined;
    const handler = path.startsWith("/.well-known/")
      ? metadata
      : handlers[method];
    if (!handler) {
      res.writeHead(metadata === undefined ? 404 : 405).end();
      return;
    }
    const response = await handler(
      new Request(`http://${req.headers.host}${req.url ?? "/"}`, {
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

async function connect(
  url: string,
  secret: string,
  tools?: string,
): Promise<Client> {
  const client = new Client({ name: "flotilla-test", version: "1.0.0" });
  const target = new URL(url);
  if (tools) target.searchParams.set("tools", tools);
  await client.connect(
    new StreamableHTTPClientTransport(target, {
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
  let slug: string;
  let alphaSecret: string;

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
    alphaSecret = a.secret;
    slug = project.slug;
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

  it("lists only the core tools by default, within a token budget", async () => {
    const { tools } = await alpha.listTools();
    expect(tools.map((t) => t.name)).toEqual([
      "task_claim",
      "task_heartbeat",
      "task_complete",
      "task_fail",
      "context_answer",
      "more_tools",
      "use_tool",
    ]);
    // Every client pays for the listing in tokens at start-up.
    expect(countTokens(JSON.stringify(tools))).toBeLessThanOrEqual(1000);
    const claim = tools.find((t) => t.name === "task_claim");
    expect(Object.keys(claim?.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining(["goalId", "count"]),
    );
  });

  it("lists more groups, or all tools, when the URL asks", async () => {
    const some = await connect(server.url, alphaSecret, "plans,reservations");
    const all = await connect(server.url, alphaSecret, "all");
    try {
      const listed = (await some.listTools()).tools.map((t) => t.name);
      expect(listed).toEqual(
        expect.arrayContaining([
          "task_claim",
          "more_tools",
          "plan_submit",
          "plan_status",
          "reservation_create",
          "reservation_check",
        ]),
      );
      expect(listed).not.toContain("directives_read");

      const { tools } = await all.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual([
        "budget_remaining",
        "budget_request",
        "context_answer",
        "context_document",
        "context_patch",
        "context_section",
        "context_write",
        "directive_ack",
        "directives_read",
        "events_report",
        "goals_list",
        "more_tools",
        "plan_status",
        "plan_submit",
        "reservation_check",
        "reservation_create",
        "reservation_release",
        "reservation_renew",
        "task_block",
        "task_claim",
        "task_complete",
        "task_create",
        "task_fail",
        "task_heartbeat",
        "task_release",
        "task_review",
        "task_subtask",
        "use_tool",
      ]);
      const create = tools.find((t) => t.name === "task_create");
      expect(create?.inputSchema.required).toEqual(["goalId", "title"]);
      expect(Object.keys(create?.inputSchema.properties ?? {})).toEqual(
        expect.arrayContaining(["description", "priority", "scope"]),
      );
    } finally {
      await some.close();
      await all.close();
    }
  });

  it("refuses tools= given twice, naming it, as the HTTP API does", async () => {
    const response = await fetch(`${server.url}?tools=plans&tools=all`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        authorization: `Bearer ${alphaSecret}`,
      },
      body: initializeBody(),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: {
        code: "invalid_input",
        message: "Invalid query parameters: tools: Give this parameter once",
        details: [{ path: "tools", message: "Give this parameter once" }],
      },
    });
  });

  it("discovers the other tools and calls them through use_tool", async () => {
    const groups = await callTool(alpha, "more_tools");
    expect(groups.isError).toBe(false);
    expect(groups.text).toContain(
      "reservations: reservation_create, reservation_renew",
    );
    expect(groups.text).toContain("?tools=all");

    const plans = await callTool(alpha, "more_tools", { group: "plans" });
    expect(plans.text).toMatch(/^plan_submit \{goalId: uuid, /);
    expect(plans.text).toContain("tasks: {key: string, title: string");
    expect(plans.text).toContain("plan_status {planId: uuid}");

    const goals = await callTool(alpha, "use_tool", {
      name: "goals_list",
      arguments: { status: "active" },
    });
    expect(goals).toMatchObject({ isError: false });
    expect(goals.text).toContain(`goal ${goalId} [active] "Ship MCP"`);

    const unknown = await callTool(alpha, "use_tool", { name: "no_such" });
    expect(unknown).toMatchObject({
      isError: true,
      text:
        "invalid_input: Invalid arguments: name: Unknown tool no_such; " +
        "more_tools lists them",
    });
    // A tool's own validation answers the same way through use_tool.
    const invalid = await callTool(alpha, "use_tool", {
      name: "plan_status",
      arguments: { planId: "nope" },
    });
    expect(invalid).toMatchObject({
      isError: true,
      text: "invalid_input: Invalid arguments: planId: Must be a UUID",
    });
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

    // Handed in for review after work started.
    const third = await callTool(beta, "task_claim");
    const reviewedId = uuidAfter(third.text, "Claimed task");
    await callTool(beta, "task_heartbeat", { taskId: reviewedId });
    const review = await callTool(beta, "task_review", {
      taskId: reviewedId,
      note: "PR #3",
    });
    expect(review.text).toMatch(/^In review: task .* \[in_review\]/);
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
    expect(mcp.text).toContain("held by agent alpha");
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

    // A word read as its synonym is said under the pointer.
    const synonym = await callTool(alpha, "context_answer", {
      q: "load a google typeface without layout shift",
    });
    expect(synonym.text.split("\n").slice(0, 2)).toEqual([
      expect.stringMatching(/^Fonts \(fonts\.md:1,/),
      'Read "typeface" as "font" (synonym)',
    ]);
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

  it("claims several tasks at once, or says why none was claimed", async () => {
    const goal = await createGoal(handle.db, cli, {
      project: slug,
      title: "Batch",
    });
    for (const title of ["First of two", "Second of two"]) {
      await callTool(alpha, "task_create", { goalId: goal.id, title });
    }
    const both = await callTool(alpha, "task_claim", {
      goalId: goal.id,
      count: 2,
    });
    expect(both.isError).toBe(false);
    expect(both.text.match(/^Claimed task /gm)).toHaveLength(2);
    expect(both.text).toMatch(/lease [0-9a-f-]{36} \(fencing token \d+\)/);

    const gated = await createGoal(handle.db, cli, {
      project: slug,
      title: "Needs rust",
    });
    const created = await callTool(alpha, "task_create", {
      goalId: gated.id,
      title: "Port the parser",
      capabilities: ["rust"],
    });
    const taskId = uuidAfter(created.text, "Created task");
    const none = await callTool(alpha, "task_claim", { goalId: gated.id });
    expect(none).toMatchObject({
      isError: false,
      text:
        "No task claimed. Skipped:\n" +
        `- task ${taskId} "Port the parser": capability: ` +
        "Needs capabilities rust that agent alpha lacks",
    });
  });

  it("splits off a subtask and blocks a held task", async () => {
    const goal = await createGoal(handle.db, cli, {
      project: slug,
      title: "Split",
    });
    await callTool(alpha, "task_create", { goalId: goal.id, title: "Parent" });
    const claimed = await callTool(alpha, "task_claim", { goalId: goal.id });
    const parentId = uuidAfter(claimed.text, "Claimed task");
    const leaseId = uuidAfter(claimed.text, "lease");
    const fencingToken = Number(/fencing token (\d+)/.exec(claimed.text)?.[1]);

    const sub = await callTool(alpha, "task_subtask", {
      parentTaskId: parentId,
      title: "Child",
      scope: ["lib/child/**"],
    });
    expect(sub.isError).toBe(false);
    expect(sub.text).toMatch(
      new RegExp(
        `^Created task [0-9a-f-]{36} \\[ready\\] "Child" under goal ` +
          `${goal.id}, subtask of task ${parentId}$`,
      ),
    );
    const child = await callTool(beta, "task_claim", { goalId: goal.id });
    expect(child.text).toContain('"Child"');
    expect(child.text).toContain(`Subtask of task ${parentId} ('Parent').`);

    const blocked = await callTool(alpha, "task_block", {
      taskId: parentId,
      leaseId,
      fencingToken,
      reason: "Waiting on the schema change",
    });
    expect(blocked.isError).toBe(false);
    expect(blocked.text).toMatch(
      new RegExp(
        `^Blocked: task ${parentId} \\[blocked\\] "Parent"; escalation ` +
          "[0-9a-f-]{36} \\(blocked\\) sent to \\d+ people$",
      ),
    );
    // A stale fencing token is refused like over HTTP; the current one
    // is passed through.
    const childId = uuidAfter(child.text, "Claimed task");
    const stale = await callTool(beta, "task_release", {
      taskId: childId,
      fencingToken: 999,
    });
    expect(stale.isError).toBe(true);
    expect(stale.text).toMatch(/^conflict: /);
    const released = await callTool(beta, "task_release", {
      taskId: childId,
      leaseId: uuidAfter(child.text, "lease"),
      fencingToken: Number(/fencing token (\d+)/.exec(child.text)?.[1]),
    });
    expect(released.text).toBe(`Released: task ${childId} [ready] "Child"`);
  });

  it("reads a whole document, its outline, and one section", async () => {
    const whole = await callTool(alpha, "context_document", {
      path: "caching.md",
    });
    expect(whole.isError).toBe(false);
    expect(whole.text).toMatch(/^Caching \(caching\.md, source default, \d+/);
    expect(whole.text).toContain("# Caching");
    expect(whole.text).toContain("revalidateTag(tag)");

    const outline = await callTool(alpha, "context_document", {
      path: "caching.md",
      outline: true,
    });
    expect(outline.text).not.toContain("revalidateTag(tag)");
    const sectionId = uuidAfter(outline.text, "section");
    expect(outline.text).toContain(`section ${sectionId} Caching (line 1,`);
    const tagged = /section ([0-9a-f-]{36}) Caching > revalidateTag/.exec(
      outline.text,
    )?.[1];

    const section = await callTool(alpha, "context_section", {
      sectionId: tagged,
    });
    expect(section.isError).toBe(false);
    expect(section.text).toMatch(/^Caching > revalidateTag \(caching\.md:\d+/);
    expect(section.text).toContain("revalidateTag(tag)");
    expect(section.text).not.toContain("Next.js caches data");

    const missing = await callTool(alpha, "context_document", {
      path: "nope.md",
    });
    expect(missing).toMatchObject({
      isError: true,
      text: "not_found: Document nope.md was not found",
    });
  });

  it("writes back a note, refuses its topic twice, and patches it", async () => {
    const written = await callTool(alpha, "context_write", {
      kind: "runbook",
      topic: "cache-purge",
      title: "Cache purge",
      body: "## Purge\n\nPurge the marmot cache with `make purge`.",
    });
    expect(written.isError).toBe(false);
    const id = uuidAfter(written.text, "document");
    expect(written.text).toBe(
      `Wrote document ${id} notes/runbook/cache-purge.md "Cache purge" ` +
        `[canonical], ${/(\d+) tokens/.exec(written.text)?.[1]} tokens`,
    );

    const twice = await callTool(alpha, "context_write", {
      kind: "note",
      topic: "cache-purge",
      title: "Another",
      body: "Text.",
    });
    expect(twice.isError).toBe(true);
    expect(twice.text).toMatch(/^conflict: Topic cache-purge already has/);
    expect(twice.text).toContain(id);

    const patched = await callTool(alpha, "context_patch", {
      documentId: id,
      heading: "Purge",
      body: "Purge the marmot cache with `make purge-all`.",
    });
    expect(patched.text).toMatch(/^Patched Cache purge > Purge \(version 2\)/);
    const answer = await callTool(alpha, "context_answer", {
      q: "How do I purge the marmot cache?",
    });
    expect(answer.text).toContain("make purge-all");
  });

  it("submits a plan and reads its status", async () => {
    const goal = await createGoal(handle.db, cli, {
      project: slug,
      title: "Planned",
    });
    const submitted = await callTool(alpha, "plan_submit", {
      goalId: goal.id,
      note: "Two steps",
      tasks: [
        { key: "schema", title: "Add the table", scope: ["db/**"] },
        {
          key: "api",
          title: "Expose it",
          scope: ["api/**"],
          dependsOn: ["schema"],
        },
      ],
    });
    expect(submitted.isError).toBe(false);
    const planId = uuidAfter(submitted.text, "Plan");
    expect(submitted.text).toMatch(
      new RegExp(
        `^Plan ${planId} v1 \\[submitted\\] for goal ${goal.id} ` +
          '"Planned": 2 tasks',
      ),
    );
    expect(submitted.text).toContain('- api: "Expose it"');

    const status = await callTool(alpha, "plan_status", { planId });
    expect(status.text).toMatch(
      new RegExp(`^Plan ${planId} v1 \\[submitted\\]`),
    );

    const cycle = await callTool(alpha, "plan_submit", {
      goalId: goal.id,
      tasks: [{ key: "a", title: "A", scope: ["a/**"], dependsOn: ["a"] }],
    });
    expect(cycle.isError).toBe(true);
    expect(cycle.text).toMatch(/^invalid_input: Invalid plan: tasks/);
  });

  it("reserves, checks, renews and releases paths", async () => {
    const reserved = await callTool(alpha, "reservation_create", {
      globs: ["assets/**"],
      ttlSeconds: 120,
      reason: "Regenerating icons",
    });
    expect(reserved.isError).toBe(false);
    const reservationId = uuidAfter(reserved.text, "reservation");
    expect(reserved.text).toMatch(
      /^Reserved: reservation [0-9a-f-]{36} \(exclusive\) assets\/\*\* until /,
    );

    const refused = await callTool(beta, "reservation_create", {
      globs: ["assets/logo.svg"],
    });
    expect(refused.isError).toBe(false);
    expect(refused.text).toMatch(/^Not reserved: /);
    expect(refused.text).toContain(
      `- exclusive reservation ${reservationId} held by agent alpha`,
    );

    const check = await callTool(beta, "reservation_check", {
      paths: ["assets/logo.svg", "src/free.ts"],
    });
    expect(check.text).toContain(
      `assets/logo.svg: held by exclusive reservation ${reservationId} ` +
        "held by agent alpha",
    );
    expect(check.text).toContain("src/free.ts: free");
    expect(check.text).toContain("You hold no reservations.");

    const renewed = await callTool(alpha, "reservation_renew", {
      reservationId,
      ttlSeconds: 600,
    });
    expect(renewed.text).toContain(`Renewed: reservation ${reservationId}`);
    const foreign = await callTool(beta, "reservation_release", {
      reservationId,
    });
    expect(foreign.isError).toBe(true);
    expect(foreign.text).toMatch(/^conflict: /);
    const released = await callTool(alpha, "reservation_release", {
      reservationId,
    });
    expect(released).toMatchObject({
      isError: false,
      text: `Released reservation ${reservationId}`,
    });
  });

  it("reads and acknowledges directives", async () => {
    expect((await callTool(beta, "directives_read")).text).toBe(
      "No directives.",
    );
    const sent = await sendDirective(handle.db, cli, {
      project: slug,
      agent: "beta",
      body: "Stop editing assets/ until the release",
      priority: "urgent",
    });
    const read = await callTool(beta, "directives_read");
    expect(read.text).toContain(
      `directive ${sent.id} [urgent] from ${sent.createdBy} at `,
    );
    expect(read.text).toContain("Stop editing assets/ until the release");

    const ack = await callTool(beta, "directive_ack", {
      directiveId: sent.id,
      note: "Understood",
    });
    expect(ack.text).toMatch(
      new RegExp(`^Acknowledged directive ${sent.id} at `),
    );
    expect((await callTool(beta, "directives_read")).text).toBe(
      "No directives.",
    );
    const foreign = await callTool(alpha, "directive_ack", {
      directiveId: sent.id,
    });
    expect(foreign).toMatchObject({
      isError: true,
      text: "conflict: This directive is for agent beta, not for you",
    });
  });

  it("tells the remaining budget of a held task and its goal", async () => {
    const goal = await createGoal(handle.db, cli, {
      project: slug,
      title: "Budgeted",
      budgetUsd: 10,
    });
    await callTool(alpha, "task_create", {
      goalId: goal.id,
      title: "Costly",
      estimateUsd: 2,
    });
    const claimed = await callTool(alpha, "task_claim", { goalId: goal.id });
    const taskId = uuidAfter(claimed.text, "Claimed task");
    const report = await callTool(alpha, "events_report", {
      events: [
        {
          id: "cost-1",
          sessionId: "sess-budget",
          type: "llm_call",
          name: "model",
          time: new Date().toISOString(),
          taskId,
          costUsd: 0.5,
        },
      ],
    });
    expect(report.text).toBe("Accepted 1, duplicate 0, rejected 0.");

    const remaining = await callTool(alpha, "budget_remaining", { taskId });
    expect(remaining).toMatchObject({
      isError: false,
      text:
        `task ${taskId} [claimed] "Costly": spent $0.5 of estimate $2, ` +
        "$1.5 left\n" +
        `  goal ${goal.id} "Budgeted": spent $0.5 of budget $10, $9.5 left`,
    });
    const held = await callTool(alpha, "budget_remaining");
    expect(held.text).toContain(`task ${taskId} [claimed] "Costly"`);
    expect((await callTool(beta, "budget_remaining")).text).toBe(
      "You hold no task; pass taskId to see one task's budget.",
    );
  });

  it("refuses requests without a valid agent token", async () => {
    const metadataUrl = server.url.replace(
      "/api/mcp",
      "/.well-known/oauth-protected-resource/api/mcp",
    );
    const missing = await rawPost(server.url);
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe(
      `Bearer realm="flotilla", resource_metadata="${metadataUrl}"`,
    );
    expect(await missing.json()).toMatchObject({
      error: { code: "unauthenticated" },
    });

    const bad = await rawPost(server.url, `Bearer flt_${"x".repeat(32)}`);
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toBe(
      `Bearer realm="flotilla", resource_metadata="${metadataUrl}", ` +
        'error="invalid_token", error_description="Unknown token"',
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

  it("leads a client from a 401 to its protected resource metadata", async () => {
    const refused = await rawPost(server.url);
    const { resourceMetadataUrl } = extractWWWAuthenticateParams(refused);
    expect(resourceMetadataUrl?.href).toBe(
      server.url.replace(
        "/api/mcp",
        "/.well-known/oauth-protected-resource/api/mcp",
      ),
    );

    // Followed from the challenge, and found by the SDK's own path-aware
    // discovery: the same document, naming the URL the client dialed.
    const followed = await discoverOAuthProtectedResourceMetadata(server.url, {
      resourceMetadataUrl,
    });
    const discovered = await discoverOAuthProtectedResourceMetadata(server.url);
    expect(followed).toEqual(discovered);
    expect(followed).toMatchObject({
      resource: server.url,
      resource_name: "Flotilla",
      bearer_methods_supported: ["header"],
    });
    // No OAuth server: tokens come from the console or the CLI.
    expect(followed.authorization_servers).toBeUndefined();

    const origin = new URL(server.url).origin;
    const root = await fetch(`${origin}/.well-known/oauth-protected-resource`);
    expect(root.status).toBe(200);
    expect(root.headers.get("access-control-allow-origin")).toBe("*");
    expect(await root.json()).toMatchObject({ resource: origin });
    const other = await fetch(
      `${origin}/.well-known/oauth-protected-resource/api/other`,
    );
    expect(other.status).toBe(404);
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
    expect(get.headers.get("allow")).toBe("OPTIONS, POST");
    expect(await get.json()).toEqual({
      error: {
        code: "method_not_allowed",
        message: "GET is not allowed on /api/mcp; it takes OPTIONS, POST",
        details: { allow: ["OPTIONS", "POST"] },
      },
    });
    const end = await fetch(server.url, {
      method: "DELETE",
      headers: { authorization: `Bearer ${betaSecret}` },
    });
    expect(end.status).toBe(405);
    expect(end.headers.get("allow")).toBe("OPTIONS, POST");
  });
});
