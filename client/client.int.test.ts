import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { indexDocuments } from "@/server/context";
import type { Actor } from "@/server/identity/actor";
import { createGoal } from "@/server/orchestration";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import { FlotillaApiError, FlotillaClient } from "./index";
import { startLoopbackServer, type LoopbackServer } from "./testing";

// The typed client against the real route handlers on a loopback port:
// what an agent's script sees, results and errors alike.

const cli: Actor = { kind: "cli", label: "cli:test" };

const caching = `# Caching

## revalidateTag

Call \`revalidateTag(tag)\` inside a Server Action to purge every fetch
tagged with that tag.
`;

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(FlotillaApiError);

  return error as FlotillaApiError;
}

describe.each(testKinds)("typed client on %s", (kind) => {
  let handle: DatabaseHandle;
  let server: LoopbackServer;
  let agent: FlotillaClient;
  let person: FlotillaClient;
  let projectSlug: string;
  let goalId: string;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    const { db } = handle;
    const project = await makeProject(db);
    projectSlug = project.slug;
    const made = await makeAgent(db, project.id, "builder");
    const admin = await makeUser(db, "admin");
    goalId = (
      await createGoal(db, cli, { project: project.slug, title: "Ship it" })
    ).id;
    await indexDocuments(db, cli, {
      project: project.slug,
      files: [{ path: "caching.md", content: caching }],
    });
    server = await startLoopbackServer();
    agent = new FlotillaClient({ url: server.url, token: made.secret });
    person = new FlotillaClient({ url: `${server.url}/`, token: admin.secret });
  });

  afterAll(async () => {
    await server?.close();
    await handle?.close();
  });

  it("walks a task from creation to done", async () => {
    expect(await agent.claim({ goalId })).toBeNull();
    const { task } = await agent.createTask({ goalId, title: "Write docs" });
    expect(task).toMatchObject({ title: "Write docs", status: "ready" });

    const claimed = await agent.claim({ goalId, ttlSeconds: 60 });
    expect(claimed?.task.id).toBe(task.id);
    expect(typeof claimed?.lease.expiresAt).toBe("string");
    const renewed = await agent.heartbeat(task.id, { ttlSeconds: 120 });
    expect(renewed.task.id).toBe(task.id);
    const done = await agent.complete(task.id, { result: "written" });
    expect(done.task).toMatchObject({ status: "done", result: "written" });

    const { goals } = await agent.goals({ status: "active" });
    expect(goals.map((goal) => goal.id)).toContain(goalId);
  });

  it("fails and releases held tasks", async () => {
    const first = await agent.createTask({ goalId, title: "Try A" });
    await agent.claim({ goalId });
    const failed = await agent.fail(first.task.id, { reason: "flaky CI" });
    expect(failed.task.status).toBe("failed");

    const second = await agent.createTask({ goalId, title: "Try B" });
    await agent.claim({ goalId });
    const released = await agent.release(second.task.id);
    expect(released.task.status).toBe("ready");
  });

  it("throws FlotillaApiError with the server's code and details", async () => {
    const invalid = await refusal(agent.createTask({ goalId, title: "" }));
    expect(invalid).toMatchObject({ status: 400, code: "invalid_input" });
    expect(invalid.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: "title" })]),
    );

    const missing = await refusal(
      agent.complete("00000000-0000-4000-8000-000000000000"),
    );
    expect(missing).toMatchObject({ status: 404, code: "not_found" });

    const stranger = new FlotillaClient({ url: server.url, token: "flt_x" });
    const unknown = await refusal(stranger.goals());
    expect(unknown).toMatchObject({ status: 401, code: "unauthenticated" });
    expect(unknown.unreachable).toBe(false);
  });

  it("reports an unreachable server as status 0", async () => {
    const gone = new FlotillaClient({
      url: "http://127.0.0.1:9",
      token: "flt_x",
      timeoutMs: 2000,
    });
    const error = await refusal(gone.goals());
    expect(error).toMatchObject({ status: 0, code: "unreachable" });
    expect(error.unreachable).toBe(true);
  });

  it("answers context questions", async () => {
    const answer = await agent.context("how do I purge tagged fetches", {
      includeStale: true,
    });
    expect(answer.answered).toBe(true);
    if (answer.answered) expect(answer.path).toBe("caching.md");
  });

  it("writes back, patches, deletes and restores a note", async () => {
    const { document } = await agent.writeNote({
      kind: "decision",
      topic: "client-notes",
      title: "Client notes",
      body: "## Retries\n\nRetry twice.",
    });
    expect(document).toMatchObject({ status: "canonical", version: "1" });
    const taken = await refusal(
      agent.writeNote({
        kind: "note",
        topic: "client-notes",
        title: "Again",
        body: "x",
      }),
    );
    expect(taken).toMatchObject({ status: 409, code: "conflict" });

    const patched = await agent.patchNoteSection(document.id, {
      heading: "Retries",
      body: "Retry three times.",
    });
    expect(patched).toMatchObject({ version: 2, changed: true });
    const detail = await agent.contextDocument(document.id);
    expect(detail.versions.map((v) => v.number)).toEqual([1, 2]);

    expect((await agent.deleteNote(document.id)).document.deleted).toBe(true);
    expect((await agent.restoreNote(document.id)).document.deleted).toBe(false);
  });

  it("reports events and reads them back through the read API", async () => {
    const time = new Date().toISOString();
    const result = await agent.reportEvents([
      {
        id: "ev-1",
        sessionId: "client-session",
        type: "llm_call",
        time,
        model: "claude-sonnet-4-5",
        usage: { inputTokens: 1000, outputTokens: 200 },
      },
      { id: "ev-2", sessionId: "client-session", type: "tool_call", time },
    ]);
    expect(result).toMatchObject({ accepted: 2, rejected: 0 });
    const again = await agent.reportEvents({
      source: "native",
      events: [
        { id: "ev-1", sessionId: "client-session", type: "llm_call", time },
      ],
    });
    expect(again).toMatchObject({ accepted: 0, duplicate: 1 });

    const detail = await person.session(projectSlug, "client-session");
    expect(detail.events).toHaveLength(2);
    const spend = await person.spend(projectSlug, { groupBy: ["model"] });
    expect(spend.groupBy).toEqual(["model"]);
    expect(spend.totals.calls).toBeGreaterThanOrEqual(1);

    // An agent token may not use the read API.
    const refused = await refusal(agent.spend(projectSlug));
    expect(refused.status).toBe(403);
  });
});
