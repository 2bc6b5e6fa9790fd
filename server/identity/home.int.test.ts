import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import {
  agentSessions,
  agents,
  approvals,
  budgetAlerts,
  budgets,
  escalations,
  eventFlags,
  events,
  tasks,
} from "@/db/schema";
import { ensureEventPartitions } from "@/server/observability/partitions";
import {
  claimNextTask,
  createGoal,
  createTask,
  updateGoal,
} from "@/server/orchestration";
import { newId, setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { pinClock, rejection } from "@/tests/failures";
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import type { Actor } from "./actor";
import { operatorHome } from "./overview";
import { pauseProject } from "@/server/guardrails/kill-switch";

const cli: Actor = { kind: "cli", label: "cli:test" };
const HOUR = 60 * 60 * 1000;

describe.each(testKinds)("the operator's home on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
  });
  afterAll(async () => handle.close());
  afterEach(() => setClock(null));

  it("says briefly that nothing waits in an empty project", async () => {
    const { db } = handle;
    const project = await makeProject(db);
    const viewer = await makeUser(db, "viewer");
    const home = await operatorHome(db, viewer.actor, {
      project: project.slug,
    });

    expect(home.role).toBe("viewer");
    for (const section of [
      home.approvals,
      home.blockedTasks,
      home.escalations,
      home.budgetAlerts,
      home.redFlags,
      home.goals,
      home.fleet.inFlight,
    ]) {
      expect(section).toEqual({ count: 0, items: [] });
    }
    expect(home.fleet.presence).toEqual({ online: 0, idle: 0, offline: 0 });
    expect(home.pause.paused).toBe(false);
  });

  it("says first that the project is paused, with the reason", async () => {
    const { db } = handle;
    const project = await makeProject(db);
    const operator = await makeUser(db, "operator");
    await pauseProject(db, operator.actor, {
      project: project.slug,
      reason: "runaway spend",
    });
    const home = await operatorHome(db, operator.actor, {
      project: project.slug,
    });

    expect(home.pause).toMatchObject({
      paused: true,
      reason: "runaway spend",
      pausedBy: operator.user.email,
    });
  });

  it("lists what needs a person, then the fleet and the goals", async () => {
    const { db } = handle;
    const clock = pinClock(new Date("2030-05-15T12:00:00Z"));
    const at = clock.at();
    const project = await makeProject(db);
    const other = await makeProject(db);
    const busy = await makeAgent(db, project.id, "busy");
    const idle = await makeAgent(db, project.id, "idle");
    await makeAgent(db, project.id, "gone");
    const goal = await createGoal(db, cli, {
      project: project.slug,
      title: "Checkout",
      budgetUsd: 50,
    });
    const done = await createGoal(db, cli, {
      project: project.slug,
      title: "Old work",
    });
    await updateGoal(db, cli, { goalId: done.id, status: "done" });
    const stuck = await createTask(db, cli, {
      goalId: goal.id,
      title: "Stuck on the API",
    });
    await db
      .update(tasks)
      .set({ status: "blocked" })
      .where(eq(tasks.id, stuck.id));
    await createTask(db, cli, { goalId: goal.id, title: "Pay button" });
    const held = await claimNextTask(db, busy.actor);
    // busy holds a task and was just seen; idle was seen, holds nothing;
    // gone was never seen.
    await db
      .update(agents)
      .set({ lastSeenAt: at })
      .where(eq(agents.id, busy.agent.id));
    await db
      .update(agents)
      .set({ lastSeenAt: new Date(at.getTime() - 30_000) })
      .where(eq(agents.id, idle.agent.id));

    // Approvals: one waiting, one past its deadline, one decided, one in
    // another project.
    const approval = (projectId: string, changes: object) => ({
      id: newId(),
      projectId,
      kind: "tool",
      title: "Bash: git push --force",
      payload: {},
      agentId: busy.agent.id,
      requestedAt: new Date(at.getTime() - HOUR),
      ...changes,
    });
    await db
      .insert(approvals)
      .values([
        approval(project.id, { requiredRole: "admin" }),
        approval(project.id, { expiresAt: new Date(at.getTime() - 1000) }),
        approval(project.id, { status: "approved" }),
        approval(other.id, {}),
      ]);
    await db.insert(escalations).values({
      id: newId(),
      projectId: project.id,
      kind: "blocked",
      taskId: stuck.id,
      reason: "Needs an API key",
      raisedByType: "agent",
      raisedByLabel: "busy",
      createdAt: at,
    });

    // Budgets: today's soft alert counts, yesterday's hard one does not.
    const budgetId = newId();
    await db.insert(budgets).values({
      id: budgetId,
      projectId: project.id,
      scope: "project",
      unit: "usd",
      period: "day",
      limitAmount: "10",
      softPercent: 80,
      createdAt: at,
      updatedAt: at,
    });
    const today = new Date("2030-05-15T00:00:00Z");
    await db.insert(budgetAlerts).values([
      { budgetId, periodStart: today, level: "soft", createdAt: at },
      {
        budgetId,
        periodStart: new Date(today.getTime() - 24 * HOUR),
        level: "hard",
        createdAt: new Date(at.getTime() - 20 * HOUR),
      },
    ]);

    // Red flags: a recent critical one, a low one, a day-old high one.
    const sessionId = newId();
    await db.insert(agentSessions).values({
      id: sessionId,
      projectId: project.id,
      agentId: busy.agent.id,
      externalId: "s1",
      source: "native",
      startedAt: at,
      lastEventAt: at,
    });
    const flag = async (severity: string, createdAt: Date) => {
      const eventId = newId();
      await ensureEventPartitions(db, [createdAt]);
      await db.insert(events).values({
        id: eventId,
        projectId: project.id,
        sessionId,
        agentId: busy.agent.id,
        eventKey: `e-${eventId}`,
        source: "native",
        type: "tool",
        name: "Bash",
        occurredAt: createdAt,
        receivedAt: createdAt,
      });
      await db.insert(eventFlags).values({
        id: newId(),
        projectId: project.id,
        sessionId,
        eventId,
        eventOccurredAt: createdAt,
        rule: `rule-${severity}`,
        severity,
        excerpt: "rm -rf /",
        createdAt,
      });
    };
    await flag("critical", new Date(at.getTime() - HOUR));
    await flag("low", at);
    await flag("high", new Date(at.getTime() - 25 * HOUR));

    const home = await operatorHome(db, cli, { project: project.slug });

    expect(home.approvals.count).toBe(1);
    expect(home.approvals.items[0]).toMatchObject({
      title: "Bash: git push --force",
      requiredRole: "admin",
      agentName: "busy",
    });
    expect(home.blockedTasks).toMatchObject({
      count: 1,
      items: [{ id: stuck.id, goalTitle: "Checkout" }],
    });
    expect(home.escalations).toMatchObject({
      count: 1,
      items: [{ taskTitle: "Stuck on the API", reason: "Needs an API key" }],
    });
    expect(home.budgetAlerts).toMatchObject({
      count: 1,
      items: [{ budgetId, level: "soft", scope: "project", limit: 10 }],
    });
    expect(home.redFlags).toMatchObject({
      count: 1,
      items: [{ severity: "critical", agentName: "busy" }],
    });
    expect(home.fleet.presence).toEqual({ online: 1, idle: 1, offline: 1 });
    expect(home.fleet.inFlight).toMatchObject({
      count: 1,
      items: [
        {
          id: held?.task.id,
          agentName: "busy",
          leaseExpiresAt: held?.lease.expiresAt,
        },
      ],
    });
    // Done goals are left out; open ones carry progress and spend.
    expect(home.goals.items.map((g) => g.title)).toEqual(["Checkout"]);
    expect(home.goals.items[0].progress).toEqual({
      done: 0,
      total: 2,
      percent: 0,
    });
  });

  it("shows a goal whose own budget is spent as a budget alert", async () => {
    const { db } = handle;
    const project = await makeProject(db);
    const agent = await makeAgent(db, project.id);
    const goal = await createGoal(db, cli, {
      project: project.slug,
      title: "Tight",
      budgetUsd: 0.01,
    });
    const sessionId = newId();
    await db.insert(agentSessions).values({
      id: sessionId,
      projectId: project.id,
      agentId: agent.agent.id,
      externalId: "s",
      source: "native",
      startedAt: new Date(),
      lastEventAt: new Date(),
    });
    await ensureEventPartitions(db, [new Date()]);
    await db.insert(events).values({
      id: newId(),
      projectId: project.id,
      sessionId,
      agentId: agent.agent.id,
      goalId: goal.id,
      eventKey: "spent",
      source: "native",
      type: "llm",
      name: "call",
      occurredAt: new Date(),
      receivedAt: new Date(),
      costUsd: "0.02",
    });

    const home = await operatorHome(db, cli, { project: project.slug });
    expect(home.budgetAlerts.items).toMatchObject([
      { budgetId: `goal:${goal.id}`, level: "hard", subject: "Tight" },
    ]);
  });

  it("is not shown to a person outside the project", async () => {
    const { db } = handle;
    const project = await makeProject(db);
    const agent = await makeAgent(db, project.id);
    const elsewhere = await makeProject(db);
    const failure = await rejection(
      operatorHome(db, agent.actor, { project: elsewhere.slug }),
    );
    expect(failure.status).toBe(404);
  });
});
