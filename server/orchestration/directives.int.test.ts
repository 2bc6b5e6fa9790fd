import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { auditLog } from "@/db/schema";
import { GET as directivesRoute } from "@/app/api/agent/v1/directives/route";
import { POST as ackRoute } from "@/app/api/agent/v1/directives/[id]/ack/route";
import { POST as claimRoute } from "@/app/api/agent/v1/tasks/claim/route";
import { GET as planRoute } from "@/app/api/agent/v1/plans/[id]/route";
import { createCaller } from "@/server/api/root";
import type { Actor } from "@/server/identity/actor";
import { setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { pinClock, trpcFailure } from "@/tests/failures";
import { addMember, makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import {
  claimNextTask,
  createGoal,
  createTask,
  heartbeat,
  reviewPlan,
  submitPlan,
} from "./index";

// Directives from an operator to an agent, and the notices an agent finds
// in its heartbeat and claim: each directive and plan decision once.

const cli: Actor = { kind: "cli", label: "cli:test" };

type Handler = (
  request: Request,
  context: { params: Promise<Record<string, string>> },
) => Promise<Response>;

async function call(
  handler: Handler,
  token: string,
  options: { method?: string; id?: string; body?: unknown } = {},
) {
  const method = options.method ?? "GET";
  const response = await handler(
    new Request("http://test/api/agent/v1/directives", {
      method,
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${token}`,
      },
      body: method === "GET" ? undefined : JSON.stringify(options.body ?? {}),
    }),
    {
      params: Promise.resolve<Record<string, string>>(
        options.id ? { id: options.id } : {},
      ),
    },
  );

  return {
    status: response.status,
    body: (await response.json()) as Record<string, any>,
  };
}

describe.each(testKinds)("directives and notices on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
  });
  afterAll(async () => {
    useDatabase(null);
    await handle.close();
  });
  afterEach(() => setClock(null));

  async function setup() {
    const db = handle.db;
    const project = await makeProject(db);
    const operator = await makeUser(db, "operator");
    const viewer = await makeUser(db, "viewer");
    await addMember(db, project.id, viewer.user.id, "viewer");
    const alpha = await makeAgent(db, project.id, "alpha");
    const beta = await makeAgent(db, project.id, "beta");
    const goal = await createGoal(db, cli, {
      project: project.slug,
      title: "Ship",
    });
    await createTask(db, cli, { goalId: goal.id, title: "Work" });
    const claim = await claimNextTask(db, alpha.actor, {});
    if (!claim) throw new Error("nothing to claim");

    return {
      db,
      project,
      operator,
      alpha,
      beta,
      goal,
      taskId: claim.task.id,
      operatorApi: createCaller({ db, actor: operator.actor }),
      viewerApi: createCaller({ db, actor: viewer.actor }),
    };
  }

  it("delivers a directive once through the heartbeat, then it is acknowledged", async () => {
    const { db, project, operator, operatorApi, alpha, taskId } = await setup();
    const sent = await operatorApi.orchestration.directives.send({
      project: project.slug,
      agent: "alpha",
      body: "Stop editing migrations",
      priority: "urgent",
    });
    expect(sent).toMatchObject({ state: "pending", agent: { name: "alpha" } });

    const first = await heartbeat(db, alpha.actor, { taskId });
    expect(first.notices.directives).toMatchObject([
      {
        id: sent.id,
        body: "Stop editing migrations",
        priority: "urgent",
        createdBy: operator.user.email,
      },
    ]);
    const second = await heartbeat(db, alpha.actor, { taskId });
    expect(second.notices.directives).toEqual([]);
    const [listed] = await operatorApi.orchestration.directives.list({
      project: project.slug,
    });
    expect(listed).toMatchObject({ id: sent.id, state: "delivered" });

    // Until acknowledged, the agent's own list still holds it.
    const pending = await call(directivesRoute, alpha.secret);
    expect(pending).toMatchObject({
      status: 200,
      body: { directives: [{ id: sent.id }] },
    });
    const acked = await call(ackRoute, alpha.secret, {
      method: "POST",
      id: sent.id,
      body: { note: "Reverted my migration" },
    });
    expect(acked).toMatchObject({
      status: 200,
      body: { directive: { id: sent.id } },
    });
    expect((await call(directivesRoute, alpha.secret)).body.directives).toEqual(
      [],
    );
    const [done] = await operatorApi.orchestration.directives.list({
      project: project.slug,
      agent: "alpha",
    });
    expect(done).toMatchObject({
      state: "acknowledged",
      acknowledgement: "Reverted my migration",
    });
    expect(done.acknowledgedAt).toBeInstanceOf(Date);

    const audit = await db
      .select()
      .from(auditLog)
      .where(eq(auditLog.targetId, sent.id));
    expect(audit.map((row) => [row.action, row.actorLabel])).toEqual([
      ["directive.send", operator.user.email],
    ]);
  });

  it("keeps the first acknowledgement's note and refuses a different one", async () => {
    const { project, operatorApi, alpha } = await setup();
    const sent = await operatorApi.orchestration.directives.send({
      project: project.slug,
      agent: "alpha",
      body: "Pause the import",
    });
    const ack = (body: unknown) =>
      call(ackRoute, alpha.secret, { method: "POST", id: sent.id, body });
    expect((await ack({ note: "Paused" })).status).toBe(200);
    // A retry with the same note, or with none, answers as the first did.
    expect(await ack({ note: "Paused" })).toMatchObject({ status: 200 });
    expect(await ack({})).toMatchObject({ status: 200 });
    const different = await ack({ note: "Resumed after all" });
    expect(different.status).toBe(409);
    expect(different.body.error.message).toMatch(
      /^This directive was already acknowledged at \d{4}-.+Z with note "Paused"$/,
    );
    const [listed] = await operatorApi.orchestration.directives.list({
      project: project.slug,
      agent: "alpha",
    });
    expect(listed).toMatchObject({ acknowledgement: "Paused" });
  });

  it("hands new directives out in the claim response too", async () => {
    const { project, operatorApi, beta } = await setup();
    const sent = await operatorApi.orchestration.directives.send({
      project: project.slug,
      agent: "beta",
      body: "Take the docs next",
    });
    const response = await claimRoute(
      new Request("http://test/api/agent/v1/tasks/claim", {
        method: "POST",
        headers: { authorization: `Bearer ${beta.secret}` },
      }),
      { params: Promise.resolve({}) },
    );
    const body = await response.json();
    expect(body.notices).toMatchObject({
      directives: [{ id: sent.id, body: "Take the docs next" }],
      plans: [],
    });
  });

  it("refuses an acknowledgement by another agent, or of a withdrawn directive", async () => {
    const { project, operatorApi, beta } = await setup();
    const forAlpha = await operatorApi.orchestration.directives.send({
      project: project.slug,
      agent: "alpha",
      body: "Alpha only",
    });
    expect(
      await call(ackRoute, beta.secret, { method: "POST", id: forAlpha.id }),
    ).toMatchObject({
      status: 409,
      body: {
        error: {
          code: "conflict",
          message: "This directive is for agent alpha, not for you",
        },
      },
    });

    const withdrawn = await operatorApi.orchestration.directives.send({
      project: project.slug,
      agent: "beta",
      body: "Never mind",
    });
    const cancelled = await operatorApi.orchestration.directives.cancel({
      directiveId: withdrawn.id,
    });
    expect(cancelled.state).toBe("cancelled");
    const refused = await call(ackRoute, beta.secret, {
      method: "POST",
      id: withdrawn.id,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(
      /^This directive was cancelled at \d{4}-/,
    );
    expect(
      await trpcFailure(
        operatorApi.orchestration.directives.cancel({
          directiveId: withdrawn.id,
        }),
      ),
    ).toMatchObject({
      code: "CONFLICT",
      message: "The directive is already cancelled",
    });
  });

  it("lets a directive expire unseen", async () => {
    const { db, project, operatorApi, alpha, taskId } = await setup();
    const clock = pinClock(new Date(Date.now()));
    const sent = await operatorApi.orchestration.directives.send({
      project: project.slug,
      agent: "alpha",
      body: "Only for the next minute",
      expiresAt: new Date(clock.at().getTime() + 60_000),
    });
    clock.advance(61);
    const beat = await heartbeat(db, alpha.actor, { taskId });
    expect(beat.notices.directives).toEqual([]);
    expect((await call(directivesRoute, alpha.secret)).body.directives).toEqual(
      [],
    );
    const [listed] = await operatorApi.orchestration.directives.list({
      project: project.slug,
    });
    expect(listed).toMatchObject({
      id: sent.id,
      state: "expired",
      deliveredAt: null,
    });
    const refused = await call(ackRoute, alpha.secret, {
      method: "POST",
      id: sent.id,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/^This directive expired at /);
  });

  it("refuses viewers and agents as senders, and unknown agents", async () => {
    const { project, operatorApi, viewerApi } = await setup();
    expect(
      await trpcFailure(
        viewerApi.orchestration.directives.send({
          project: project.slug,
          agent: "alpha",
          body: "hello",
        }),
      ),
    ).toMatchObject({ code: "FORBIDDEN" });
    expect(
      await trpcFailure(
        operatorApi.orchestration.directives.send({
          project: project.slug,
          agent: "nobody",
          body: "hello",
        }),
      ),
    ).toMatchObject({
      code: "BAD_REQUEST",
      details: [{ path: "agent", message: "No such agent in this project" }],
    });
    expect(
      await trpcFailure(
        operatorApi.orchestration.directives.send({
          project: project.slug,
          agent: "alpha",
          body: "  ",
        }),
      ),
    ).toMatchObject({
      code: "BAD_REQUEST",
      details: [{ path: "body", message: "Write the directive" }],
    });
  });

  it("tells a plan's author of the decision once", async () => {
    const { db, alpha, goal, taskId } = await setup();
    const planTask = { key: "a", title: "Docs", scope: ["docs/**"] };
    const plan = await submitPlan(db, alpha.actor, {
      goalId: goal.id,
      tasks: [planTask],
    });
    expect(
      (await heartbeat(db, alpha.actor, { taskId })).notices.plans,
    ).toEqual([]);
    await reviewPlan(db, cli, {
      planId: plan.id,
      decision: "request_changes",
      comment: "Split the docs task",
    });
    const told = await heartbeat(db, alpha.actor, { taskId });
    expect(told.notices.plans).toMatchObject([
      {
        id: plan.id,
        goalId: goal.id,
        version: 1,
        status: "changes_requested",
        reviewComment: "Split the docs task",
      },
    ]);
    expect(told.notices.plans[0].reviewedAt).toBeInstanceOf(Date);
    expect(
      (await heartbeat(db, alpha.actor, { taskId })).notices.plans,
    ).toEqual([]);

    // Reading the plan itself counts as being told.
    const second = await submitPlan(db, alpha.actor, {
      goalId: goal.id,
      tasks: [planTask],
    });
    await reviewPlan(db, cli, {
      planId: second.id,
      decision: "reject",
      comment: "Not needed",
    });
    const read = await planRoute(
      new Request(`http://test/api/agent/v1/plans/${second.id}`, {
        headers: { authorization: `Bearer ${alpha.secret}` },
      }),
      { params: Promise.resolve({ id: second.id }) },
    );
    expect((await read.json()).plan).toMatchObject({ status: "rejected" });
    expect(
      (await heartbeat(db, alpha.actor, { taskId })).notices.plans,
    ).toEqual([]);
  });
});
