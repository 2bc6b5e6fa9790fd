import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Database, DatabaseHandle } from "@/db/client";
import { POST as postGoal } from "@/app/api/v1/projects/[slug]/goals/route";
import { useDatabase } from "@/db/runtime";
import { agentSessions, auditLog, events } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { ensureEventPartitions } from "@/server/observability/partitions";
import { newId, now, setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { pinClock, rejection } from "@/tests/failures";
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import {
  claimNextTask,
  createGoal,
  createTask,
  getGoal,
  setGoalCriterion,
  updateGoal,
} from "./index";

const cli: Actor = { kind: "cli", label: "cli:test" };
const DAY = 24 * 60 * 60;

/** One priced model call of the goal, at the domain clock's time. */
async function spend(
  db: Database,
  ids: { projectId: string; agentId: string; goalId: string },
  usd: number,
  tokens: number,
) {
  const sessionId = newId();
  await db.insert(agentSessions).values({
    id: sessionId,
    projectId: ids.projectId,
    agentId: ids.agentId,
    externalId: `test-${sessionId}`,
    source: "native",
    startedAt: now(),
    lastEventAt: now(),
  });
  await ensureEventPartitions(db, [now()]);
  await db.insert(events).values({
    id: newId(),
    projectId: ids.projectId,
    sessionId,
    agentId: ids.agentId,
    goalId: ids.goalId,
    eventKey: `test-${newId()}`,
    source: "native",
    type: "llm",
    name: "model call",
    occurredAt: now(),
    inputTokens: tokens,
    costUsd: usd.toFixed(8),
    costSource: "reported",
    receivedAt: now(),
  });
}

describe.each(testKinds)("goal fields on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
  });
  afterAll(async () => handle.close());
  afterEach(() => setClock(null));

  it("stores criteria, owner, priority, due date and budgets", async () => {
    const { db } = handle;
    const project = await makeProject(db);
    const owner = await makeUser(db, "operator");
    const goal = await createGoal(db, cli, {
      project: project.slug,
      title: "Search v2",
      successCriteria: [{ text: "p95 under 200 ms" }, { text: "Docs" }],
      owner: owner.user.email.toUpperCase(),
      priority: 7,
      dueAt: "2030-06-30",
      budgetUsd: 25,
      budgetTokens: 2_000_000,
      maxActiveTasks: 3,
    });

    expect(goal).toMatchObject({
      status: "active",
      successCriteria: [
        { text: "p95 under 200 ms", done: false },
        { text: "Docs", done: false },
      ],
      owner: { id: owner.user.id, email: owner.user.email },
      priority: 7,
      dueAt: new Date("2030-06-30T00:00:00Z"),
      budgetUsd: 25,
      budgetTokens: 2_000_000,
      maxActiveTasks: 3,
    });

    const cleared = await updateGoal(db, cli, {
      goalId: goal.id,
      owner: null,
      dueAt: null,
      budgetTokens: null,
      priority: -2,
    });
    expect(cleared).toMatchObject({
      owner: null,
      dueAt: null,
      budgetTokens: null,
      priority: -2,
    });
  });

  it("takes the new fields over the People API", async () => {
    const { db } = handle;
    const project = await makeProject(db);
    const operator = await makeUser(db, "operator");
    const post = (body: unknown) =>
      postGoal(
        new Request(`http://localhost/api/v1/projects/${project.slug}/goals`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${operator.secret}`,
            "content-type": "application/json",
          },
          body: JSON.stringify(body),
        }),
        { params: Promise.resolve({ slug: project.slug }) },
      );

    const created = await post({
      title: "From the API",
      successCriteria: [{ text: "Green CI" }],
      owner: operator.user.email,
      priority: 3,
      dueAt: "2030-02-01T00:00:00Z",
      budgetTokens: 500,
      draft: true,
    });
    expect(created.status).toBe(201);
    expect((await created.json()).goal).toMatchObject({
      status: "draft",
      successCriteria: [{ text: "Green CI", done: false }],
      owner: { email: operator.user.email },
      priority: 3,
      dueAt: "2030-02-01T00:00:00.000Z",
      budgetTokens: 500,
    });

    // A date PostgreSQL cannot store is the caller's mistake, not a 500.
    for (const dueAt of [-8.64e15, "-271821-04-20T00:00:00Z", "0000-01-01"]) {
      const far = await post({ title: "Far", dueAt });
      expect(far.status).toBe(400);
      expect((await far.json()).error.details).toEqual([
        { path: "dueAt", message: "Must be a date between 1970 and 9999" },
      ]);
    }

    const refused = await post({ title: "x", successCriteria: [{ text: "" }] });
    expect(refused.status).toBe(400);
    expect((await refused.json()).error.details).toEqual([
      {
        path: "successCriteria.0.text",
        message: "A criterion must not be empty",
      },
    ]);
  });

  it("refuses bad fields, each under its own path", async () => {
    const { db } = handle;
    const project = await makeProject(db);
    const failure = await rejection(
      createGoal(db, cli, {
        project: project.slug,
        title: "Bad",
        successCriteria: [{ text: "   " }, { text: "x".repeat(501) }],
        priority: 1.5,
        dueAt: "someday",
        budgetTokens: -1,
        maxActiveTasks: 0,
      }),
    );
    expect(failure.status).toBe(400);
    const paths = (failure.details as { path: string }[]).map((d) => d.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "successCriteria.0.text",
        "successCriteria.1.text",
        "priority",
        "dueAt",
        "budgetTokens",
        "maxActiveTasks",
      ]),
    );

    const many = Array.from({ length: 51 }, (_, i) => ({ text: `c${i}` }));
    const tooMany = await rejection(
      createGoal(db, cli, {
        project: project.slug,
        title: "Many",
        successCriteria: many,
      }),
    );
    expect(tooMany.details).toEqual([
      { path: "successCriteria", message: "At most 50 criteria" },
    ]);

    const stranger = await rejection(
      createGoal(db, cli, {
        project: project.slug,
        title: "Owned",
        owner: "nobody@example.test",
      }),
    );
    expect(stranger).toMatchObject({
      status: 400,
      details: [{ path: "owner", message: "No user nobody@example.test" }],
    });
  });

  it("keeps a draft's tasks from being claimed until it is active", async () => {
    const { db } = handle;
    const project = await makeProject(db);
    const agent = await makeAgent(db, project.id);
    const draft = await createGoal(db, cli, {
      project: project.slug,
      title: "Later",
      draft: true,
    });
    expect(draft.status).toBe("draft");
    await createTask(db, cli, { goalId: draft.id, title: "Step one" });

    expect(await claimNextTask(db, agent.actor)).toBeNull();
    await updateGoal(db, cli, { goalId: draft.id, status: "active" });
    const claimed = await claimNextTask(db, agent.actor);
    expect(claimed?.task.title).toBe("Step one");
  });

  it("ticks a criterion as an audited operator action", async () => {
    const { db } = handle;
    const project = await makeProject(db);
    const operator = await makeUser(db, "operator");
    const viewer = await makeUser(db, "viewer");
    const agent = await makeAgent(db, project.id);
    const goal = await createGoal(db, cli, {
      project: project.slug,
      title: "Checklist",
      successCriteria: [{ text: "Tests pass" }, { text: "Shipped" }],
    });

    const ticked = await setGoalCriterion(db, operator.actor, {
      goalId: goal.id,
      index: 1,
      text: "Shipped",
      done: true,
    });
    expect(ticked.successCriteria).toEqual([
      { text: "Tests pass", done: false },
      { text: "Shipped", done: true },
    ]);
    const audit = await db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.targetId, goal.id),
          eq(auditLog.action, "goal.criterion.done"),
        ),
      );
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actorId: operator.user.id,
      details: { index: 1, text: "Shipped" },
    });

    expect(
      (
        await rejection(
          setGoalCriterion(db, viewer.actor, {
            goalId: goal.id,
            index: 0,
            done: true,
          }),
        )
      ).status,
    ).toBe(403);
    expect(
      (
        await rejection(
          setGoalCriterion(db, agent.actor, {
            goalId: goal.id,
            index: 0,
            done: true,
          }),
        )
      ).status,
    ).toBe(403);
    // The list changed under the operator: the tick is refused, not misplaced.
    await updateGoal(db, cli, {
      goalId: goal.id,
      successCriteria: [{ text: "Shipped", done: true }],
    });
    const stale = await rejection(
      setGoalCriterion(db, operator.actor, {
        goalId: goal.id,
        index: 0,
        text: "Tests pass",
        done: true,
      }),
    );
    expect(stale.status).toBe(409);
  });

  it("reports progress, spend and a forecast from the goal's events", async () => {
    const { db } = handle;
    const clock = pinClock(new Date("2030-01-01T00:00:00Z"));
    const project = await makeProject(db);
    const agent = await makeAgent(db, project.id);
    const goal = await createGoal(db, cli, {
      project: project.slug,
      title: "Burn",
      budgetUsd: 100,
      budgetTokens: 1_000_000,
      dueAt: "2030-01-31T00:00:00Z",
    });
    const ids = {
      projectId: project.id,
      agentId: agent.agent.id,
      goalId: goal.id,
    };
    for (const title of ["a", "b", "c", "d", "e"]) {
      await createTask(db, cli, { goalId: goal.id, title });
    }
    const young = await getGoal(db, cli, { goalId: goal.id });
    expect(young.progress).toEqual({ done: 0, total: 5, percent: 0 });
    expect(young.forecast.enoughData).toBe(false);

    // $30 on day 1 falls out of the window by day 10; $14 over the last
    // seven days is the rate: $2 and 10,000 tokens a day.
    clock.advance(1 * DAY);
    await spend(db, ids, 30, 500_000);
    clock.advance(4 * DAY);
    await spend(db, ids, 7, 35_000);
    clock.advance(4 * DAY);
    await spend(db, ids, 7, 35_000);
    clock.advance(1 * DAY);
    const claimed = await claimNextTask(db, agent.actor);
    expect(claimed).not.toBeNull();

    const view = await getGoal(db, cli, { goalId: goal.id });
    expect(view.spendUsd).toBe(44);
    expect(view.spendTokens).toBe(570_000);
    expect(view.forecast).toMatchObject({
      enoughData: true,
      windowDays: 7,
      usdPerDay: 2,
      tokensPerDay: 10_000,
      // 20 days from day 10 (January 11) to the due date.
      projectedUsdAtDue: 84,
      projectedTokensAtDue: 770_000,
      daysUntilUsdBudget: 28,
      daysUntilTokenBudget: 43,
    });
  });
});
