import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { agents } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject } from "@/tests/fixtures";
import { POST as createRoute } from "@/app/api/agent/v1/tasks/route";
import { POST as claimRoute } from "@/app/api/agent/v1/tasks/claim/route";
import { POST as heartbeatRoute } from "@/app/api/agent/v1/tasks/[id]/heartbeat/route";
import { POST as completeRoute } from "@/app/api/agent/v1/tasks/[id]/complete/route";
import { POST as failRoute } from "@/app/api/agent/v1/tasks/[id]/fail/route";
import { POST as releaseRoute } from "@/app/api/agent/v1/tasks/[id]/release/route";
import { PUT as dependenciesRoute } from "@/app/api/agent/v1/tasks/[id]/dependencies/route";
import { GET as goalsRoute } from "@/app/api/agent/v1/goals/route";
import { createGoal } from "./goals";
import { recordSpend } from "./testing";

// The agent API as an agent sees it: status codes and exact error bodies.

const cli: Actor = { kind: "cli", label: "cli:test" };
const unknownTask = "00000000-0000-4000-8000-000000000000";

type Handler = (
  request: Request,
  context: { params: Promise<Record<string, string>> },
) => Promise<Response>;

async function call(
  handler: Handler,
  options: {
    token?: string | null;
    id?: string;
    body?: unknown;
    method?: string;
    path?: string;
  },
) {
  const headers: Record<string, string> = {
    "content-type": "application/json",
  };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const method = options.method ?? "POST";
  const params: Record<string, string> = options.id ? { id: options.id } : {};
  const response = await handler(
    new Request(`http://test${options.path ?? "/api/agent/v1/tasks"}`, {
      method,
      headers,
      body:
        method === "GET" || options.body === undefined
          ? undefined
          : typeof options.body === "string"
            ? options.body
            : JSON.stringify(options.body),
    }),
    { params: Promise.resolve(params) },
  );
  const text = await response.text();

  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : null,
  };
}

describe.each(testKinds)("agent task API on %s", (kind) => {
  let handle: DatabaseHandle;
  let alpha: string;
  let beta: string;
  let paused: string;
  let goalId: string;
  let cappedGoalId: string;
  let projectSlug: string;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    const db = handle.db;
    const project = await makeProject(db);
    projectSlug = project.slug;
    const a = await makeAgent(db, project.id, "alpha");
    alpha = a.secret;
    beta = (await makeAgent(db, project.id, "beta")).secret;
    const p = await makeAgent(db, project.id, "sleepy");
    paused = p.secret;
    await db
      .update(agents)
      .set({ status: "paused" })
      .where(eq(agents.id, p.agent.id));
    goalId = (
      await createGoal(db, cli, { project: project.slug, title: "Ship v1" })
    ).id;
    cappedGoalId = (
      await createGoal(db, cli, {
        project: project.slug,
        title: "Capped",
        budgetUsd: 1,
      })
    ).id;
    await recordSpend(db, {
      projectId: project.id,
      agentId: a.agent.id,
      goalId: cappedGoalId,
      usd: 1.23,
    });
  });
  afterAll(async () => {
    useDatabase(null);
    await handle.close();
  });

  it("runs a task from creation to completion", async () => {
    const created = await call(createRoute, {
      token: alpha,
      body: {
        goalId,
        title: "Add rate limits",
        priority: 3,
        scope: ["server/api/**"],
        estimateUsd: 0.5,
      },
    });
    expect(created.status).toBe(201);
    expect(created.body?.task).toMatchObject({
      title: "Add rate limits",
      status: "ready",
      scope: ["server/api/**"],
      estimateUsd: 0.5,
    });

    const claimed = await call(claimRoute, { token: alpha, body: { goalId } });
    expect(claimed.status).toBe(200);
    const task = claimed.body?.task as { id: string; holder: { name: string } };
    const lease = claimed.body?.lease as { id: string; expiresAt: string };
    expect(task.holder.name).toBe("alpha");
    expect(new Date(lease.expiresAt).getTime()).toBeGreaterThan(Date.now());

    const beat = await call(heartbeatRoute, {
      token: alpha,
      id: task.id,
      body: { leaseId: lease.id },
    });
    expect(beat.status).toBe(200);
    expect(beat.body?.task).toMatchObject({ status: "in_progress" });

    const done = await call(completeRoute, {
      token: alpha,
      id: task.id,
      body: { result: "PR #12" },
    });
    expect(done.status).toBe(200);
    expect(done.body?.task).toMatchObject({ status: "done", result: "PR #12" });

    const empty = await call(claimRoute, { token: alpha, body: { goalId } });
    expect(empty).toEqual({
      status: 200,
      body: {
        task: null,
        lease: null,
        claimed: [],
        skipped: [],
        notices: { directives: [], plans: [], approvals: [] },
      },
    });
  });

  it("releases and fails through the API", async () => {
    const created = await call(createRoute, {
      token: beta,
      body: { goalId, title: "Flaky test" },
    });
    const id = (created.body?.task as { id: string }).id;
    await call(claimRoute, { token: beta });
    const released = await call(releaseRoute, { token: beta, id });
    expect(released.body?.task).toMatchObject({
      status: "ready",
      holder: null,
    });
    await call(claimRoute, { token: beta, body: {} });
    const failed = await call(failRoute, {
      token: beta,
      id,
      body: { reason: "cannot reproduce" },
    });
    expect(failed.status).toBe(200);
    expect(failed.body?.task).toMatchObject({
      status: "failed",
      result: "cannot reproduce",
    });
  });

  it("lists the goals of the agent's project", async () => {
    const listed = await call(goalsRoute, {
      token: alpha,
      method: "GET",
      path: "/api/agent/v1/goals",
    });
    expect(listed.status).toBe(200);
    const goals = listed.body?.goals as Array<Record<string, unknown>>;
    expect(goals.map((g) => g.title).sort()).toEqual(["Capped", "Ship v1"]);
    expect(goals.find((g) => g.title === "Capped")).toMatchObject({
      overBudget: true,
      spendUsd: 1.23,
      budgetUsd: 1,
    });
  });

  it("answers errors with the right status and body", async () => {
    const held = await call(createRoute, {
      token: alpha,
      body: { goalId, title: "Held by alpha" },
    });
    const heldId = (held.body?.task as { id: string }).id;
    const claim = await call(claimRoute, { token: alpha, body: { goalId } });
    expect((claim.body?.task as { id: string }).id).toBe(heldId);

    const cases: Array<{
      name: string;
      handler: Handler;
      token?: string | null;
      id?: string;
      body?: unknown;
      status: number;
      error: Record<string, unknown>;
    }> = [
      {
        name: "no token",
        handler: claimRoute,
        token: null,
        status: 401,
        error: {
          code: "unauthenticated",
          message:
            "Missing Authorization header; send 'Authorization: Bearer flt_...'",
          details: null,
        },
      },
      {
        name: "paused agent",
        handler: claimRoute,
        token: paused,
        status: 403,
        error: {
          code: "forbidden",
          message: "Agent sleepy is paused by an operator",
          details: { rule: "agent.paused" },
        },
      },
      {
        name: "goal over budget",
        handler: claimRoute,
        token: alpha,
        body: { goalId: cappedGoalId },
        status: 403,
        error: {
          code: "forbidden",
          message: "Goal 'Capped' has spent $1.23 of its $1.00 budget",
          details: {
            rule: "goal.budget",
            goalId: cappedGoalId,
            spendUsd: 1.23,
            budgetUsd: 1,
          },
        },
      },
      {
        name: "unknown task",
        handler: completeRoute,
        token: alpha,
        id: unknownTask,
        status: 404,
        error: {
          code: "not_found",
          message: `Task ${unknownTask} was not found`,
          details: null,
        },
      },
      {
        name: "not the holder",
        handler: completeRoute,
        token: beta,
        id: heldId,
        status: 409,
        error: {
          code: "conflict",
          message: "Task 'Held by alpha' is held by agent alpha, not by you",
          details: { status: "claimed", holder: "alpha" },
        },
      },
      {
        name: "malformed task id",
        handler: heartbeatRoute,
        token: alpha,
        id: "not-a-uuid",
        status: 400,
        error: {
          code: "invalid_input",
          message: "Invalid input: taskId: Must be a UUID",
          details: [{ path: "taskId", message: "Must be a UUID" }],
        },
      },
      {
        name: "bad task body",
        handler: createRoute,
        token: alpha,
        body: { goalId, title: "", priority: 1.5, scope: ["ok", ""] },
        status: 400,
        error: {
          code: "invalid_input",
          message: expect.stringMatching(/^Invalid request body: /),
          details: [
            { path: "title", message: "Title is required" },
            { path: "priority", message: "Priority must be a whole number" },
            { path: "scope.1", message: "A scope entry must not be empty" },
          ],
        },
      },
      {
        name: "lease too long",
        handler: claimRoute,
        token: alpha,
        body: { ttlSeconds: 7200 },
        status: 400,
        error: {
          code: "invalid_input",
          message: expect.stringMatching(/ttlSeconds/),
          details: [
            {
              path: "ttlSeconds",
              message: "This project's leases last at most 3600 seconds",
            },
          ],
        },
      },
      {
        name: "fail without a reason",
        handler: failRoute,
        token: alpha,
        id: heldId,
        body: {},
        status: 400,
        error: {
          code: "invalid_input",
          message: expect.stringMatching(/reason/),
          details: [{ path: "reason", message: expect.any(String) }],
        },
      },
      {
        name: "body that is not JSON",
        handler: claimRoute,
        token: alpha,
        body: "{nope",
        status: 400,
        error: expect.objectContaining({ code: "invalid_input" }),
      },
    ];

    for (const c of cases) {
      const answer = await call(c.handler, c);
      expect({ name: c.name, ...answer }).toEqual({
        name: c.name,
        status: c.status,
        body: { error: c.error },
      });
    }
  });

  it("takes dependencies on create and refuses bad ones by field", async () => {
    // A goal of its own; this test runs last, as its tasks stay ready.
    const { id: goalId } = await createGoal(handle.db, cli, {
      project: projectSlug,
      title: "Data migration",
    });
    const first = await call(createRoute, {
      token: alpha,
      body: { goalId, title: "Migrate schema" },
    });
    const firstId = (first.body?.task as { id: string }).id;
    const second = await call(createRoute, {
      token: alpha,
      body: { goalId, title: "Backfill", dependsOn: [firstId] },
    });
    expect(second.status).toBe(201);
    expect(second.body?.task).toMatchObject({ status: "draft" });
    const secondId = (second.body?.task as { id: string }).id;

    const unknown = await call(createRoute, {
      token: alpha,
      body: { goalId, title: "Orphan", dependsOn: [firstId, unknownTask] },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body?.error).toMatchObject({
      code: "invalid_input",
      details: [{ path: "dependsOn.1", message: `No task ${unknownTask}` }],
    });
    const badId = await call(createRoute, {
      token: alpha,
      body: { goalId, title: "Orphan", dependsOn: ["nope"] },
    });
    expect(badId.status).toBe(400);
    expect(badId.body?.error).toMatchObject({
      details: [{ path: "dependsOn.0" }],
    });

    const cycle = await call(dependenciesRoute, {
      method: "PUT",
      token: alpha,
      id: firstId,
      body: { dependsOn: [secondId] },
    });
    expect(cycle.status).toBe(400);
    expect(cycle.body?.error).toMatchObject({
      message:
        "Dependencies form a cycle: Migrate schema → Backfill → " +
        "Migrate schema",
      details: [{ path: "dependsOn.0" }],
    });
    const cleared = await call(dependenciesRoute, {
      method: "PUT",
      token: alpha,
      id: secondId,
      body: { dependsOn: [] },
    });
    expect(cleared.status).toBe(200);
    expect(cleared.body?.task).toMatchObject({ status: "ready" });
  });
});
