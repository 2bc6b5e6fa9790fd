import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { agents, auditLog, taskLeases } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { pinClock, rejection as refusal } from "@/tests/failures";
import { makeAgent, makeProject } from "@/tests/fixtures";
import {
  cancelTask,
  claimNextTask,
  completeTask,
  createGoal,
  createTask,
  failTask,
  getGoal,
  heartbeat,
  listGoals,
  listTasks,
  releaseTask,
  releaseTaskAsOperator,
  taskHeldBy,
  updateGoal,
} from "./index";
import { recordSpend } from "./testing";

const cli: Actor = { kind: "cli", label: "cli:test" };

/** The status and message of a refusal (its details are not compared). */
async function rejection(promise: Promise<unknown>) {
  const { status, message } = await refusal(promise);

  return { status, message };
}

describe.each(testKinds)("claims and leases on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
  });
  afterAll(async () => handle.close());
  afterEach(() => setClock(null));

  async function setup() {
    const db = handle.db;
    const project = await makeProject(db);
    const a = await makeAgent(db, project.id, "alpha");
    const b = await makeAgent(db, project.id, "beta");
    const goal = await createGoal(db, cli, {
      project: project.slug,
      title: "Ship the API",
    });

    return { db, project, a, b, goal };
  }

  it("claims the highest priority, then the oldest ready task", async () => {
    const { db, a, goal } = await setup();
    const clock = pinClock();
    await createTask(db, a.actor, { goalId: goal.id, title: "low" });
    clock.advance(1);
    await createTask(db, a.actor, {
      goalId: goal.id,
      title: "high older",
      priority: 5,
    });
    clock.advance(1);
    await createTask(db, a.actor, {
      goalId: goal.id,
      title: "high newer",
      priority: 5,
      scope: ["src/api/**"],
    });

    const order = [];
    for (let i = 0; i < 3; i++) {
      const claim = await claimNextTask(db, a.actor, {});
      order.push(claim?.task.title);
    }
    expect(order).toEqual(["high older", "high newer", "low"]);
    expect(await claimNextTask(db, a.actor, {})).toBeNull();
  });

  it("leases a claim for 5 minutes by default and as asked", async () => {
    const { db, a, goal } = await setup();
    const clock = pinClock();
    await createTask(db, a.actor, { goalId: goal.id, title: "one" });
    await createTask(db, a.actor, { goalId: goal.id, title: "two" });

    const first = await claimNextTask(db, a.actor, {});
    expect(first?.lease.expiresAt.getTime()).toBe(
      clock.at().getTime() + 300_000,
    );
    expect(first?.task).toMatchObject({
      status: "claimed",
      holder: { name: "alpha" },
      attempts: 1,
      leaseVersion: 1,
    });
    const second = await claimNextTask(db, a.actor, { ttlSeconds: 30 });
    expect(second?.lease.expiresAt.getTime()).toBe(
      clock.at().getTime() + 30_000,
    );
    expect(
      await rejection(claimNextTask(db, a.actor, { ttlSeconds: 5 })),
    ).toMatchObject({ status: 400 });
  });

  it("makes an expired lease claimable and refuses its old holder", async () => {
    const { db, a, b, goal } = await setup();
    const clock = pinClock();
    await createTask(db, a.actor, { goalId: goal.id, title: "Fix login" });
    const first = await claimNextTask(db, a.actor, { ttlSeconds: 60 });
    if (!first) throw new Error("expected a claim");
    expect(await claimNextTask(db, b.actor, {})).toBeNull();

    clock.advance(61);
    expect(
      await rejection(heartbeat(db, a.actor, { taskId: first.task.id })),
    ).toEqual({
      status: 409,
      message: expect.stringMatching(
        /^Your lease on task 'Fix login' expired at 2030-01-01T00:01:00/,
      ),
    });
    const second = await claimNextTask(db, b.actor, {});
    expect(second?.task).toMatchObject({
      id: first.task.id,
      holder: { name: "beta" },
      attempts: 2,
      leaseVersion: 2,
    });
    expect(
      await rejection(completeTask(db, a.actor, { taskId: first.task.id })),
    ).toEqual({
      status: 409,
      message: "Task 'Fix login' is held by agent beta, not by you",
    });

    const leases = await db
      .select()
      .from(taskLeases)
      .where(eq(taskLeases.taskId, first.task.id));
    const old = leases.find((l) => l.leaseId === first.lease.id);
    expect(old?.endReason).toBe("expired");
    expect(old?.endedAt?.toISOString()).toBe("2030-01-01T00:01:00.000Z");
  });

  it("heartbeats extend the lease and start the task", async () => {
    const { db, a, goal } = await setup();
    const clock = pinClock();
    await createTask(db, a.actor, { goalId: goal.id, title: "Long job" });
    const claim = await claimNextTask(db, a.actor, { ttlSeconds: 60 });
    if (!claim) throw new Error("expected a claim");
    clock.advance(50);
    const beat = await heartbeat(db, a.actor, {
      taskId: claim.task.id,
      leaseId: claim.lease.id,
    });
    expect(beat.task.status).toBe("in_progress");
    expect(beat.lease).toEqual({
      id: claim.lease.id,
      expiresAt: new Date(clock.at().getTime() + 60_000),
      fencingToken: claim.lease.fencingToken,
    });
    clock.advance(50);
    const done = await completeTask(db, a.actor, {
      taskId: claim.task.id,
      result: "merged",
    });
    expect(done.task).toMatchObject({
      status: "done",
      holder: null,
      result: "merged",
    });
  });

  it("answers 409 to everyone but the holder of a live lease", async () => {
    const { db, a, b, goal } = await setup();
    const task = await createTask(db, a.actor, {
      goalId: goal.id,
      title: "Write docs",
    });
    expect(
      await rejection(heartbeat(db, a.actor, { taskId: task.id })),
    ).toEqual({
      status: 409,
      message: "Task 'Write docs' is not held by any agent (it is ready)",
    });
    const claim = await claimNextTask(db, a.actor, {});
    if (!claim) throw new Error("expected a claim");
    for (const call of [heartbeat, completeTask, releaseTask]) {
      expect(await rejection(call(db, b.actor, { taskId: task.id }))).toEqual({
        status: 409,
        message: "Task 'Write docs' is held by agent alpha, not by you",
      });
    }
    expect(
      await rejection(failTask(db, b.actor, { taskId: task.id, reason: "x" })),
    ).toMatchObject({ status: 409 });
    expect(
      await rejection(
        completeTask(db, a.actor, {
          taskId: task.id,
          leaseId: "00000000-0000-4000-8000-000000000000",
        }),
      ),
    ).toMatchObject({
      status: 409,
      message: expect.stringMatching(/replaced/),
    });

    const released = await releaseTask(db, a.actor, { taskId: task.id });
    expect(released.task).toMatchObject({ status: "ready", holder: null });
    const again = await claimNextTask(db, b.actor, {});
    const failed = await failTask(db, b.actor, {
      taskId: task.id,
      leaseId: again?.lease.id,
      reason: "tests do not pass",
    });
    expect(failed.task).toMatchObject({
      status: "failed",
      result: "tests do not pass",
    });
    expect(
      await rejection(completeTask(db, b.actor, { taskId: task.id })),
    ).toEqual({
      status: 409,
      message: "Task 'Write docs' is not held by any agent (it is failed)",
    });
  });

  it("does not show another project's tasks to an agent", async () => {
    const { db, a, goal } = await setup();
    const other = await makeProject(db);
    const stranger = await makeAgent(db, other.id);
    const task = await createTask(db, a.actor, { goalId: goal.id, title: "t" });
    expect(
      await rejection(
        createTask(db, stranger.actor, { goalId: goal.id, title: "x" }),
      ),
    ).toMatchObject({ status: 404 });
    expect(await claimNextTask(db, stranger.actor, {})).toBeNull();
    expect(
      await rejection(heartbeat(db, stranger.actor, { taskId: task.id })),
    ).toMatchObject({ status: 404 });
  });

  it("refuses a paused agent", async () => {
    const { db, a, goal } = await setup();
    await createTask(db, a.actor, { goalId: goal.id, title: "t" });
    await db
      .update(agents)
      .set({ status: "paused", pausedReason: "too costly" })
      .where(eq(agents.id, a.agent.id));
    expect(await rejection(claimNextTask(db, a.actor, {}))).toEqual({
      status: 403,
      message: "Agent alpha is paused by an operator: too costly",
    });
  });

  it("skips goals over budget and refuses when only they are left", async () => {
    const { db, project, a } = await setup();
    const capped = await createGoal(db, cli, {
      project: project.slug,
      title: "Capped",
      budgetUsd: 1,
    });
    const open = await createGoal(db, cli, {
      project: project.slug,
      title: "Open",
    });
    await createTask(db, a.actor, {
      goalId: capped.id,
      title: "capped task",
      priority: 10,
    });
    await createTask(db, a.actor, { goalId: open.id, title: "open task" });
    await recordSpend(db, {
      projectId: project.id,
      agentId: a.agent.id,
      goalId: capped.id,
      usd: 1.23,
    });

    const goals = await listGoals(db, cli, { project: project.slug });
    expect(goals.find((g) => g.id === capped.id)).toMatchObject({
      spendUsd: 1.23,
      budgetUsd: 1,
      overBudget: true,
      taskCounts: { ready: 1 },
    });
    expect(goals.find((g) => g.id === open.id)?.overBudget).toBe(false);

    const message = "Goal 'Capped' has spent $1.23 of its $1.00 budget";
    expect(
      await rejection(claimNextTask(db, a.actor, { goalId: capped.id })),
    ).toEqual({ status: 403, message });
    const claim = await claimNextTask(db, a.actor, {});
    expect(claim?.task.title).toBe("open task");
    expect(await rejection(claimNextTask(db, a.actor, {}))).toEqual({
      status: 403,
      message,
    });

    // Raising the budget makes the goal's tasks claimable again.
    await updateGoal(db, cli, { goalId: capped.id, budgetUsd: 5 });
    expect((await claimNextTask(db, a.actor, {}))?.task.title).toBe(
      "capped task",
    );
    expect(await getGoal(db, cli, { goalId: capped.id })).toMatchObject({
      overBudget: false,
      taskCounts: { claimed: 1, ready: 0 },
    });
  });

  it("offers nothing from a paused goal", async () => {
    const { db, a, goal } = await setup();
    await createTask(db, a.actor, { goalId: goal.id, title: "t" });
    await updateGoal(db, cli, { goalId: goal.id, status: "paused" });
    expect(await claimNextTask(db, a.actor, {})).toBeNull();
  });

  it("never gives one task to two agents under 20 concurrent claims", async () => {
    const { db, project } = await setup();
    const claimers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => makeAgent(db, project.id, `c${i}`)),
    );
    // Several rounds, each over five fresh tasks, to give races a chance.
    for (let round = 0; round < 3; round++) {
      const goal = await createGoal(db, cli, {
        project: project.slug,
        title: `Round ${round}`,
      });
      for (let i = 0; i < 5; i++) {
        await createTask(db, cli, { goalId: goal.id, title: `task ${i}` });
      }

      const results = await Promise.all(
        claimers.map((c) => claimNextTask(db, c.actor, { goalId: goal.id })),
      );
      const won = results.filter((r) => r !== null);
      expect(won).toHaveLength(5);
      expect(new Set(won.map((r) => r?.task.id)).size).toBe(5);

      const board = await listTasks(db, cli, {
        project: project.slug,
        goalId: goal.id,
      });
      expect(board.map((t) => t.status)).toEqual(Array(5).fill("claimed"));
      expect(new Set(board.map((t) => t.holder?.id)).size).toBe(5);
      for (const task of board) {
        const leases = await db
          .select()
          .from(taskLeases)
          .where(eq(taskLeases.taskId, task.id));
        expect(leases).toHaveLength(1);
        expect(leases[0].agentId).toBe(task.holder?.id);
      }
    }
  });

  it("tells which task an agent held at a moment", async () => {
    const { db, a, goal } = await setup();
    const clock = pinClock();
    const start = clock.at();
    await createTask(db, a.actor, { goalId: goal.id, title: "first" });
    await createTask(db, a.actor, { goalId: goal.id, title: "second" });
    const first = await claimNextTask(db, a.actor, { ttlSeconds: 60 });
    clock.advance(15);
    const during = clock.at();
    clock.advance(15);
    await completeTask(db, a.actor, { taskId: first?.task.id });
    clock.advance(10);
    const between = clock.at();
    clock.advance(10);
    const second = await claimNextTask(db, a.actor, { ttlSeconds: 60 });
    clock.advance(120);
    const afterExpiry = clock.at();

    expect(
      await taskHeldBy(db, a.agent.id, new Date(start.getTime() - 1)),
    ).toBeNull();
    expect(await taskHeldBy(db, a.agent.id, start)).toEqual({
      id: first?.task.id,
      goalId: goal.id,
    });
    expect(await taskHeldBy(db, a.agent.id, during)).toEqual({
      id: first?.task.id,
      goalId: goal.id,
    });
    expect(await taskHeldBy(db, a.agent.id, between)).toBeNull();
    expect(
      await taskHeldBy(db, a.agent.id, new Date(between.getTime() + 20_000)),
    ).toEqual({ id: second?.task.id, goalId: goal.id });
    expect(await taskHeldBy(db, a.agent.id, afterExpiry)).toBeNull();
  });

  it("lets an operator release and cancel a task, with an audit entry", async () => {
    const { db, project, a, goal } = await setup();
    const task = await createTask(db, cli, { goalId: goal.id, title: "t" });
    await claimNextTask(db, a.actor, {});
    const released = await releaseTaskAsOperator(db, cli, {
      taskId: task.id,
      reason: "stuck",
    });
    expect(released).toMatchObject({ status: "ready", holder: null });
    expect(
      await rejection(heartbeat(db, a.actor, { taskId: task.id })),
    ).toMatchObject({ status: 409 });
    const cancelled = await cancelTask(db, cli, { taskId: task.id });
    expect(cancelled.status).toBe("cancelled");
    expect(await claimNextTask(db, a.actor, {})).toBeNull();
    expect(
      await rejection(cancelTask(db, cli, { taskId: task.id })),
    ).toMatchObject({ status: 409 });

    const audit = await db
      .select({ action: auditLog.action })
      .from(auditLog)
      .where(eq(auditLog.projectId, project.id));
    expect(audit.map((row) => row.action).sort()).toEqual([
      "goal.create",
      "task.cancel",
      "task.create",
      "task.release",
    ]);
  });
});
