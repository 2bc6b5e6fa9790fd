import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { auditLog, tasks } from "@/db/schema";
import { createCaller } from "@/server/api/root";
import { openTestDatabase, testKinds } from "@/tests/db";
import { trpcFailure } from "@/tests/failures";
import { addMember, makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import { POST as submitRoute } from "@/app/api/agent/v1/goals/[id]/plans/route";
import { GET as planRoute } from "@/app/api/agent/v1/plans/[id]/route";
import { claimNextTask, completeTask } from "./leases";
import { reviewPlan } from "./plans";

// Plans from submission to tasks: validation as the agent API answers it,
// review by operators, versions and their differences.

type Handler = (
  request: Request,
  context: { params: Promise<Record<string, string>> },
) => Promise<Response>;

async function call(
  handler: Handler,
  options: { token: string; id: string; body?: unknown; method?: string },
) {
  const method = options.method ?? "POST";
  const response = await handler(
    new Request("http://test/api/agent/v1", {
      method,
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${options.token}`,
      },
      body: method === "GET" ? undefined : JSON.stringify(options.body),
    }),
    { params: Promise.resolve({ id: options.id }) },
  );

  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
  };
}

const task = (key: string, dependsOn: string[] = [], extra = {}) => ({
  key,
  title: `Task ${key}`,
  scope: [`src/${key}/**`],
  dependsOn,
  estimateUsd: 1.25,
  ...extra,
});

describe.each(testKinds)("plans on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
  });
  afterAll(async () => {
    useDatabase(null);
    await handle.close();
  });

  async function setup(requiresPlanApproval = true) {
    const db = handle.db;
    const project = await makeProject(db);
    const operator = await makeUser(db, "operator");
    const viewer = await makeUser(db, "viewer");
    await addMember(db, project.id, viewer.user.id, "viewer");
    const agent = await makeAgent(db, project.id, "planner");
    const ops = createCaller({ db, actor: operator.actor });
    const goal = await ops.orchestration.goals.create({
      project: project.slug,
      title: "Checkout",
      requiresPlanApproval,
    });

    return {
      db,
      project,
      goal,
      agent,
      operator: ops,
      operatorEmail: operator.user.email,
      viewer: createCaller({ db, actor: viewer.actor }),
    };
  }

  it.each([
    {
      name: "a dependency cycle",
      tasks: [task("a", ["b"]), task("b", ["a"])],
      // The walk starts at a; b's dependency on a closes the cycle.
      message: "Invalid plan: tasks.1.dependsOn.0: Cycle: b → a → b",
      details: [{ path: "tasks.1.dependsOn.0", message: "Cycle: b → a → b" }],
    },
    {
      name: "an unknown reference",
      tasks: [task("a"), task("b", ["a", "nope"])],
      message:
        "Invalid plan: tasks.1.dependsOn.1: No task with key 'nope' in this plan",
      details: [
        {
          path: "tasks.1.dependsOn.1",
          message: "No task with key 'nope' in this plan",
        },
      ],
    },
    {
      name: "an empty scope",
      tasks: [task("a"), task("b", [], { scope: [] })],
      message:
        "Invalid request body: tasks.1.scope: A task needs at least one path glob in its scope",
      details: [
        {
          path: "tasks.1.scope",
          message: "A task needs at least one path glob in its scope",
        },
      ],
    },
    {
      name: "a duplicate key",
      tasks: [task("a"), task("b"), task("a")],
      message: "Invalid plan: tasks.2.key: Key 'a' is already used by tasks.0",
      details: [
        { path: "tasks.2.key", message: "Key 'a' is already used by tasks.0" },
      ],
    },
  ])("refuses $name with a 400 naming the field", async (row) => {
    const { db, goal, agent } = await setup();
    const response = await call(submitRoute, {
      token: agent.secret,
      id: goal.id,
      body: { tasks: row.tasks },
    });
    expect(response).toEqual({
      status: 400,
      body: {
        error: {
          code: "invalid_input",
          message: row.message,
          details: row.details,
        },
      },
    });
    const made = await db.select().from(tasks).where(eq(tasks.goalId, goal.id));
    expect(made).toEqual([]);
  });

  it("approving creates the tasks, dependents draft until deps are done", async () => {
    const { db, project, goal, agent, operator, operatorEmail } = await setup();
    const submitted = await call(submitRoute, {
      token: agent.secret,
      id: goal.id,
      body: {
        note: "Schema first",
        tasks: [
          task("api", ["schema"], { capabilities: ["typescript"] }),
          task("schema", [], {
            acceptanceCriteria: "migration runs",
            priority: 5,
          }),
          task("ui", ["api", "schema"]),
        ],
      },
    });
    expect(submitted.status).toBe(201);
    const plan = submitted.body.plan as { id: string; version: number };
    expect(submitted.body.plan).toMatchObject({
      version: 1,
      status: "submitted",
      author: { type: "agent", label: "agent:planner" },
      taskCount: 3,
      estimateTotalUsd: 3.75,
      taskIds: [],
      diff: null,
    });
    expect(
      await db.select().from(tasks).where(eq(tasks.goalId, goal.id)),
    ).toEqual([]);

    // Agents cannot decide on plans, their own or others'.
    await expect(
      reviewPlan(db, agent.actor, { planId: plan.id, decision: "approve" }),
    ).rejects.toMatchObject({ code: "forbidden" });

    const approved = await operator.orchestration.plans.review({
      planId: plan.id,
      decision: "approve",
      comment: "Looks right",
    });
    expect(approved).toMatchObject({
      status: "approved",
      reviewer: operatorEmail,
      reviewComment: "Looks right",
    });
    expect(approved.taskIds).toHaveLength(3);
    const byKey = new Map(approved.tasks.map((t) => [t.key, t]));
    expect(byKey.get("schema")?.taskStatus).toBe("ready");
    expect(byKey.get("api")?.taskStatus).toBe("draft");
    expect(byKey.get("ui")?.taskStatus).toBe("draft");

    const schemaTask = await operator.orchestration.tasks.detail({
      taskId: byKey.get("schema")?.taskId ?? "",
    });
    expect(schemaTask.task).toMatchObject({
      title: "Task schema",
      scope: ["src/schema/**"],
      acceptanceCriteria: "migration runs",
      priority: 5,
      estimateUsd: 1.25,
    });
    expect(schemaTask.transitions[0]).toMatchObject({
      from: null,
      to: "ready",
      reason: "created from plan v1",
    });
    const ui = await operator.orchestration.tasks.detail({
      taskId: byKey.get("ui")?.taskId ?? "",
    });
    expect(ui.dependsOn.map((d) => d.title).sort()).toEqual([
      "Task api",
      "Task schema",
    ]);

    // Finishing the schema makes the api ready; the ui still waits.
    const claimed = await claimNextTask(db, agent.actor, { goalId: goal.id });
    expect(claimed?.task.title).toBe("Task schema");
    await completeTask(db, agent.actor, { taskId: claimed?.task.id });
    const after = await operator.orchestration.plans.get({ planId: plan.id });
    expect(after.tasks.map((t) => [t.key, t.taskStatus])).toEqual([
      ["api", "ready"],
      ["schema", "done"],
      ["ui", "draft"],
    ]);

    // The agent learns the decision and the task ids.
    const polled = await call(planRoute, {
      token: agent.secret,
      id: plan.id,
      method: "GET",
    });
    expect(polled.status).toBe(200);
    expect(polled.body.plan).toMatchObject({
      id: plan.id,
      status: "approved",
      reviewComment: "Looks right",
      taskIds: approved.taskIds,
    });

    // A decided plan cannot be decided again.
    expect(
      await trpcFailure(
        operator.orchestration.plans.review({
          planId: plan.id,
          decision: "reject",
          comment: "changed my mind",
        }),
      ),
    ).toEqual({
      code: "CONFLICT",
      message: "Plan v1 is already approved",
      details: { status: "approved" },
    });
    const audit = await db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.projectId, project.id),
          eq(auditLog.targetType, "plan"),
        ),
      );
    expect(audit.map((a) => [a.action, a.actorLabel])).toEqual([
      ["plan.approve", operatorEmail],
    ]);
  });

  it.each([
    { decision: "reject" as const, status: "rejected" },
    { decision: "request_changes" as const, status: "changes_requested" },
  ])("$decision creates nothing and keeps the comment", async (row) => {
    const { db, goal, agent, operator } = await setup();
    const submitted = await call(submitRoute, {
      token: agent.secret,
      id: goal.id,
      body: { tasks: [task("a"), task("b", ["a"])] },
    });
    const planId = (submitted.body.plan as { id: string }).id;
    expect(
      await trpcFailure(
        operator.orchestration.plans.review({
          planId,
          decision: row.decision,
        }),
      ),
    ).toMatchObject({
      code: "BAD_REQUEST",
      details: [{ path: "comment", message: "A comment is required" }],
    });
    const decided = await operator.orchestration.plans.review({
      planId,
      decision: row.decision,
      comment: "Split task a",
    });
    expect(decided).toMatchObject({
      status: row.status,
      reviewComment: "Split task a",
      taskIds: [],
    });
    expect(
      await db.select().from(tasks).where(eq(tasks.goalId, goal.id)),
    ).toEqual([]);
    const polled = await call(planRoute, {
      token: agent.secret,
      id: planId,
      method: "GET",
    });
    expect(polled.body.plan).toMatchObject({
      status: row.status,
      reviewComment: "Split task a",
    });
  });

  it("a revised plan is version 2 with its difference to version 1", async () => {
    const { goal, agent, operator } = await setup();
    const first = await call(submitRoute, {
      token: agent.secret,
      id: goal.id,
      body: { tasks: [task("a"), task("b", ["a"]), task("c")] },
    });
    const v1 = first.body.plan as { id: string };
    await operator.orchestration.plans.review({
      planId: v1.id,
      decision: "request_changes",
      comment: "Drop c, widen a",
    });
    const second = await call(submitRoute, {
      token: agent.secret,
      id: goal.id,
      body: {
        tasks: [
          task("a", [], { scope: ["src/a/**", "docs/a.md"] }),
          task("b", ["a"]),
          task("d", ["b"], { estimateUsd: 2 }),
        ],
      },
    });
    expect(second.status).toBe(201);
    expect(second.body.plan).toMatchObject({
      version: 2,
      status: "submitted",
      estimateTotalUsd: 4.5,
      diff: {
        previousVersion: 1,
        previousPlanId: v1.id,
        added: [{ key: "d", title: "Task d" }],
        removed: [{ key: "c", title: "Task c" }],
        changed: [{ key: "a", title: "Task a", fields: ["scope"] }],
      },
    });
    const list = await operator.orchestration.plans.list({ goalId: goal.id });
    expect(list.map((p) => [p.version, p.status])).toEqual([
      [2, "submitted"],
      [1, "changes_requested"],
    ]);
  });

  it("refuses to decide a version that a newer one superseded", async () => {
    const { goal, agent, operator } = await setup();
    const first = await call(submitRoute, {
      token: agent.secret,
      id: goal.id,
      body: { tasks: [task("a")] },
    });
    await call(submitRoute, {
      token: agent.secret,
      id: goal.id,
      body: { tasks: [task("a"), task("b")] },
    });
    expect(
      await trpcFailure(
        operator.orchestration.plans.review({
          planId: (first.body.plan as { id: string }).id,
          decision: "approve",
        }),
      ),
    ).toEqual({
      code: "CONFLICT",
      message: "Plan v1 was superseded by v2",
      details: { latestVersion: 2 },
    });
  });

  it("a goal without plan approval approves at once", async () => {
    const { db, goal, agent } = await setup(false);
    const submitted = await call(submitRoute, {
      token: agent.secret,
      id: goal.id,
      body: { tasks: [task("a"), task("b", ["a"])] },
    });
    expect(submitted.status).toBe(201);
    expect(submitted.body.plan).toMatchObject({
      status: "approved",
      reviewer: "system:auto-approve",
      reviewComment: "Goal 'Checkout' does not require plan approval",
    });
    const made = await db
      .select({ title: tasks.title, status: tasks.status })
      .from(tasks)
      .where(eq(tasks.goalId, goal.id));
    expect(made.sort((x, y) => x.title.localeCompare(y.title))).toEqual([
      { title: "Task a", status: "ready" },
      { title: "Task b", status: "draft" },
    ]);
  });

  it("operators submit and edit the setting; viewers may only look", async () => {
    const { goal, operator, viewer, project } = await setup();
    const updated = await operator.orchestration.goals.update({
      goalId: goal.id,
      requiresPlanApproval: false,
    });
    expect(updated.requiresPlanApproval).toBe(false);
    expect(
      await trpcFailure(
        viewer.orchestration.plans.submit({
          goalId: goal.id,
          tasks: [task("a")],
        }),
      ),
    ).toMatchObject({ code: "FORBIDDEN" });
    const plan = await operator.orchestration.plans.submit({
      goalId: goal.id,
      tasks: [task("a")],
    });
    expect(plan.status).toBe("approved");
    expect(plan.author.type).toBe("user");
    await operator.orchestration.goals.update({
      goalId: goal.id,
      requiresPlanApproval: true,
    });
    const second = await operator.orchestration.plans.submit({
      goalId: goal.id,
      tasks: [task("a"), task("b")],
    });
    expect(second.status).toBe("submitted");
    expect(
      await trpcFailure(
        viewer.orchestration.plans.review({
          planId: second.id,
          decision: "approve",
        }),
      ),
    ).toEqual({
      code: "FORBIDDEN",
      message: `This needs the operator role in project ${project.slug}; you are viewer`,
      details: { needed: "operator", role: "viewer" },
    });
    const seen = await viewer.orchestration.plans.get({ planId: second.id });
    expect(seen.diff?.added).toEqual([{ key: "b", title: "Task b" }]);
    // Another project's agent learns nothing about the plan.
    const stranger = await makeAgent(
      handle.db,
      (await makeProject(handle.db)).id,
    );
    const hidden = await call(planRoute, {
      token: stranger.secret,
      id: second.id,
      method: "GET",
    });
    expect(hidden.status).toBe(404);
  });
});
