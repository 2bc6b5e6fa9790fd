import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { auditLog, tasks, taskTransitions } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { rejection, pinClock } from "@/tests/failures";
import { makeAgent, makeProject } from "@/tests/fixtures";
import {
  cancelTask,
  claimNextTask,
  completeTask,
  createGoal,
  createTask,
  failTask,
  getTaskDetail,
  heartbeat,
  releaseTask,
  releaseTaskAsOperator,
  setMaxAttempts,
  setTaskDependencies,
  startLeaseSweeper,
  sweepExpiredLeases,
} from "./index";

const cli: Actor = { kind: "cli", label: "cli:test" };

describe.each(testKinds)("task transitions on %s", (kind) => {
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

  async function history(taskId: string) {
    const detail = await getTaskDetail(handle.db, cli, { taskId });

    return detail.transitions.map((t) =>
      [t.from ?? "-", t.to, t.actorLabel, t.reason ?? ""].join(" | "),
    );
  }

  it("records every status change of a task's life", async () => {
    const { db, a, goal } = await setup();
    const clock = pinClock();
    const task = await createTask(db, a.actor, {
      goalId: goal.id,
      title: "Paginate",
    });
    clock.advance(1);
    const claim = await claimNextTask(db, a.actor, {});
    clock.advance(1);
    await heartbeat(db, a.actor, { taskId: task.id });
    clock.advance(1);
    await heartbeat(db, a.actor, { taskId: task.id });
    clock.advance(1);
    await releaseTask(db, a.actor, { taskId: task.id });
    clock.advance(1);
    await claimNextTask(db, a.actor, {});
    clock.advance(1);
    await completeTask(db, a.actor, { taskId: task.id, result: "merged" });

    expect(claim?.task.status).toBe("claimed");
    expect(await history(task.id)).toEqual([
      "- | ready | agent:alpha | created",
      "ready | claimed | agent:alpha | claimed",
      "claimed | in_progress | agent:alpha | first heartbeat",
      "in_progress | ready | agent:alpha | released",
      "ready | claimed | agent:alpha | claimed",
      "claimed | done | agent:alpha | completed",
    ]);
    const detail = await getTaskDetail(db, cli, { taskId: task.id });
    expect(detail.transitions[1]).toMatchObject({
      actorType: "agent",
      at: new Date("2030-01-01T00:00:01Z"),
    });
  });

  it("records failures, operator releases and cancels", async () => {
    const { db, a, goal } = await setup();
    pinClock();
    const one = await createTask(db, cli, { goalId: goal.id, title: "One" });
    await claimNextTask(db, a.actor, {});
    await failTask(db, a.actor, { taskId: one.id, reason: "tests red" });
    const two = await createTask(db, cli, { goalId: goal.id, title: "Two" });
    await claimNextTask(db, a.actor, {});
    await releaseTaskAsOperator(db, cli, { taskId: two.id, reason: "stuck" });
    await cancelTask(db, cli, { taskId: two.id });

    expect(await history(one.id)).toEqual([
      "- | ready | cli:test | created",
      "ready | claimed | agent:alpha | claimed",
      "claimed | failed | agent:alpha | tests red",
    ]);
    expect(await history(two.id)).toEqual([
      "- | ready | cli:test | created",
      "ready | claimed | agent:alpha | claimed",
      "claimed | ready | cli:test | stuck",
      "ready | cancelled | cli:test | cancelled",
    ]);
    expect(await rejection(cancelTask(db, cli, { taskId: one.id }))).toEqual({
      status: 409,
      message: "Task 'One' is failed: it cannot move from failed to cancelled",
      details: { status: "failed", to: "cancelled" },
    });
    expect(
      await rejection(releaseTaskAsOperator(db, cli, { taskId: two.id })),
    ).toMatchObject({
      status: 409,
      message: "Task 'Two' is not held by any agent (it is cancelled)",
    });
    // Refusals change nothing and record nothing.
    expect(await history(two.id)).toHaveLength(4);
  });

  it("records a lapsed lease before the next claim", async () => {
    const { db, a, b, goal } = await setup();
    const clock = pinClock();
    const task = await createTask(db, cli, { goalId: goal.id, title: "Lapse" });
    await claimNextTask(db, a.actor, { ttlSeconds: 30 });
    clock.advance(31);
    await claimNextTask(db, b.actor, {});

    expect(await history(task.id)).toEqual([
      "- | ready | cli:test | created",
      "ready | claimed | agent:alpha | claimed",
      "claimed | ready | system:lease-sweeper | lease expired",
      "ready | claimed | agent:beta | claimed",
    ]);
    const detail = await getTaskDetail(db, cli, { taskId: task.id });
    expect(detail.transitions[2].at).toEqual(new Date("2030-01-01T00:00:30Z"));
  });

  describe("dependencies", () => {
    it("keeps a task waiting until all it depends on are done", async () => {
      const { db, a, goal } = await setup();
      const clock = pinClock();
      const schema = await createTask(db, cli, {
        goalId: goal.id,
        title: "Schema",
        priority: 1,
      });
      clock.advance(1);
      const api = await createTask(db, cli, {
        goalId: goal.id,
        title: "API",
        priority: 1,
      });
      const docs = await createTask(db, cli, {
        goalId: goal.id,
        title: "Docs",
        priority: 9,
        dependsOn: [schema.id, api.id],
      });
      expect(docs.status).toBe("draft");

      const first = await claimNextTask(db, a.actor, {});
      expect(first?.task.title).toBe("Schema");
      await completeTask(db, a.actor, { taskId: schema.id });
      const stillWaiting = await getTaskDetail(db, cli, { taskId: docs.id });
      expect(stillWaiting.task.status).toBe("draft");

      const second = await claimNextTask(db, a.actor, {});
      expect(second?.task.title).toBe("API");
      await completeTask(db, a.actor, { taskId: api.id });
      const third = await claimNextTask(db, a.actor, {});
      expect(third?.task.title).toBe("Docs");
      expect(await history(docs.id)).toEqual([
        "- | draft | cli:test | waiting on 'Schema', 'API'",
        "draft | ready | system:dependencies | dependencies done",
        "ready | claimed | agent:alpha | claimed",
      ]);
    });

    it("starts ready when everything it depends on is done", async () => {
      const { db, a, goal } = await setup();
      const base = await createTask(db, cli, { goalId: goal.id, title: "B" });
      await claimNextTask(db, a.actor, {});
      await completeTask(db, a.actor, { taskId: base.id });
      const next = await createTask(db, cli, {
        goalId: goal.id,
        title: "Next",
        dependsOn: [base.id],
      });
      expect(next.status).toBe("ready");
    });

    it("refuses unknown tasks and tasks of other goals by field", async () => {
      const { db, project, goal } = await setup();
      const other = await createGoal(db, cli, {
        project: project.slug,
        title: "Other",
      });
      const elsewhere = await createTask(db, cli, {
        goalId: other.id,
        title: "Elsewhere",
      });
      const here = await createTask(db, cli, { goalId: goal.id, title: "H" });
      const unknown = "00000000-0000-4000-8000-000000000000";
      const refused = await rejection(
        createTask(db, cli, {
          goalId: goal.id,
          title: "New",
          dependsOn: [here.id, unknown, elsewhere.id],
        }),
      );
      expect(refused).toMatchObject({
        status: 400,
        details: [
          { path: "dependsOn.1", message: `No task ${unknown}` },
          {
            path: "dependsOn.2",
            message: "Task 'Elsewhere' belongs to another goal",
          },
        ],
      });
      expect(
        await rejection(
          createTask(db, cli, {
            goalId: goal.id,
            title: "Twice",
            dependsOn: [here.id, here.id],
          }),
        ),
      ).toMatchObject({ status: 400, details: [{ path: "dependsOn" }] });
    });

    it("refuses cycles, naming them", async () => {
      const { db, goal } = await setup();
      const a1 = await createTask(db, cli, { goalId: goal.id, title: "A" });
      const b1 = await createTask(db, cli, {
        goalId: goal.id,
        title: "B",
        dependsOn: [a1.id],
      });
      const c1 = await createTask(db, cli, {
        goalId: goal.id,
        title: "C",
        dependsOn: [b1.id],
      });
      expect(
        await rejection(
          setTaskDependencies(db, cli, { taskId: a1.id, dependsOn: [c1.id] }),
        ),
      ).toEqual({
        status: 400,
        message: "Dependencies form a cycle: A → C → B → A",
        details: [{ path: "dependsOn.0", message: "Cycle: A → C → B → A" }],
      });
      expect(
        await rejection(
          setTaskDependencies(db, cli, { taskId: a1.id, dependsOn: [a1.id] }),
        ),
      ).toMatchObject({
        status: 400,
        message: "Dependencies form a cycle: A → A",
      });
      // Nothing changed: A is still ready and depends on nothing.
      const detail = await getTaskDetail(db, cli, { taskId: a1.id });
      expect(detail.task.status).toBe("ready");
      expect(detail.dependsOn).toEqual([]);
    });

    it("moves a task between draft and ready as its dependencies change", async () => {
      const { db, goal } = await setup();
      const a1 = await createTask(db, cli, { goalId: goal.id, title: "A" });
      const b1 = await createTask(db, cli, { goalId: goal.id, title: "B" });
      const waiting = await setTaskDependencies(db, cli, {
        taskId: b1.id,
        dependsOn: [a1.id],
      });
      expect(waiting.status).toBe("draft");
      const free = await setTaskDependencies(db, cli, {
        taskId: b1.id,
        dependsOn: [],
      });
      expect(free.status).toBe("ready");
      expect(await history(b1.id)).toEqual([
        "- | ready | cli:test | created",
        "ready | draft | system:dependencies | waiting on 'A'",
        "draft | ready | system:dependencies | dependencies done",
      ]);
    });

    it("readies a task when its last two dependencies finish at once", async () => {
      const { db, a, b, goal } = await setup();
      const one = await createTask(db, cli, { goalId: goal.id, title: "1" });
      const two = await createTask(db, cli, { goalId: goal.id, title: "2" });
      const last = await createTask(db, cli, {
        goalId: goal.id,
        title: "Last",
        dependsOn: [one.id, two.id],
      });
      const ca = await claimNextTask(db, a.actor, {});
      const cb = await claimNextTask(db, b.actor, {});
      if (!ca || !cb) throw new Error("expected two claims");
      await Promise.all([
        completeTask(db, a.actor, { taskId: ca.task.id }),
        completeTask(db, b.actor, { taskId: cb.task.id }),
      ]);
      const detail = await getTaskDetail(db, cli, { taskId: last.id });
      expect(detail.task.status).toBe("ready");
      expect(detail.transitions.filter((t) => t.to === "ready")).toHaveLength(
        1,
      );
    });
  });

  describe("the lease sweeper", () => {
    it("returns an expired task to ready, recording why", async () => {
      const { db, a, goal } = await setup();
      const clock = pinClock();
      const task = await createTask(db, cli, { goalId: goal.id, title: "S" });
      await claimNextTask(db, a.actor, { ttlSeconds: 30 });
      clock.advance(29);
      expect(await sweepExpiredLeases(db)).toEqual({ returned: 0, failed: 0 });
      clock.advance(2);
      expect(await sweepExpiredLeases(db)).toMatchObject({ returned: 1 });

      const detail = await getTaskDetail(db, cli, { taskId: task.id });
      expect(detail.task).toMatchObject({
        status: "ready",
        holder: null,
        attempts: 1,
      });
      expect(detail.transitions.at(-1)).toMatchObject({
        from: "claimed",
        to: "ready",
        actorType: "system",
        reason: "lease expired",
      });
      expect(
        await rejection(heartbeat(db, a.actor, { taskId: task.id })),
      ).toMatchObject({ status: 409 });
    });

    it("fails a task after the project's maximum attempts", async () => {
      const { db, project, a, goal } = await setup();
      const clock = pinClock();
      await setMaxAttempts(db, project.id, 2);
      const task = await createTask(db, cli, { goalId: goal.id, title: "F" });
      for (let i = 0; i < 2; i++) {
        const claim = await claimNextTask(db, a.actor, { ttlSeconds: 10 });
        expect(claim?.task.id).toBe(task.id);
        clock.advance(11);
        await sweepExpiredLeases(db);
      }
      const detail = await getTaskDetail(db, cli, { taskId: task.id });
      expect(detail.task).toMatchObject({ status: "failed", attempts: 2 });
      expect(detail.transitions.at(-1)).toMatchObject({
        from: "claimed",
        to: "failed",
        actorType: "system",
        reason: "lease expired; 2 of 2 attempts used",
      });
      expect(await claimNextTask(db, a.actor, {})).toBeNull();
      const audit = await db
        .select()
        .from(auditLog)
        .where(
          and(eq(auditLog.targetId, task.id), eq(auditLog.action, "task.fail")),
        );
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({
        projectId: project.id,
        actorType: "system",
        details: { title: "F", attempts: 2, maxAttempts: 2 },
      });
    });

    it("claims never lazily reclaim a task whose attempts are used up", async () => {
      const { db, project, a, b, goal } = await setup();
      const clock = pinClock();
      await setMaxAttempts(db, project.id, 1);
      await createTask(db, cli, { goalId: goal.id, title: "Once" });
      await claimNextTask(db, a.actor, { ttlSeconds: 10 });
      clock.advance(11);
      expect(await claimNextTask(db, b.actor, {})).toBeNull();
      expect(await sweepExpiredLeases(db)).toEqual({ returned: 0, failed: 1 });
    });

    it("never moves a task twice when sweepers run concurrently", async () => {
      const { db, a, goal } = await setup();
      const clock = pinClock();
      const count = 30;
      for (let i = 0; i < count; i++) {
        await createTask(db, cli, { goalId: goal.id, title: `T${i}` });
      }
      for (let i = 0; i < count; i++) {
        await claimNextTask(db, a.actor, { ttlSeconds: 10 });
      }
      clock.advance(11);
      const results = await Promise.all(
        Array.from({ length: 4 }, () => sweepExpiredLeases(db)),
      );
      const total = results.reduce((sum, r) => sum + r.returned, 0);
      expect(total).toBeGreaterThanOrEqual(count);
      const lapsed = await db
        .select({ taskId: taskTransitions.taskId })
        .from(taskTransitions)
        .innerJoin(tasks, eq(tasks.id, taskTransitions.taskId))
        .where(
          and(
            eq(tasks.goalId, goal.id),
            eq(taskTransitions.reason, "lease expired"),
          ),
        );
      const ids = lapsed.map((row) => row.taskId);
      expect(ids).toHaveLength(count);
      expect(new Set(ids).size).toBe(count);
    });

    it("claims racing the sweepers take over each lapsed lease once", async () => {
      const { db, a, b, goal } = await setup();
      const clock = pinClock();
      const count = 20;
      for (let i = 0; i < count; i++) {
        await createTask(db, cli, { goalId: goal.id, title: `R${i}` });
      }
      for (let i = 0; i < count; i++) {
        await claimNextTask(db, a.actor, { goalId: goal.id, ttlSeconds: 10 });
      }
      clock.advance(11);
      await Promise.all([
        sweepExpiredLeases(db),
        ...Array.from({ length: 10 }, () =>
          claimNextTask(db, b.actor, { goalId: goal.id }),
        ),
        sweepExpiredLeases(db),
      ]);
      const rows = await db
        .select({
          taskId: taskTransitions.taskId,
          to: taskTransitions.toStatus,
          reason: taskTransitions.reason,
        })
        .from(taskTransitions)
        .innerJoin(tasks, eq(tasks.id, taskTransitions.taskId))
        .where(eq(tasks.goalId, goal.id));
      for (let i = 0; i < count; i++) {
        const [task] = await db
          .select()
          .from(tasks)
          .where(and(eq(tasks.goalId, goal.id), eq(tasks.title, `R${i}`)));
        const mine = rows.filter((r) => r.taskId === task.id);
        // Exactly one lapse, and at most one claim after it.
        expect(mine.filter((r) => r.reason === "lease expired")).toHaveLength(
          1,
        );
        expect(mine.filter((r) => r.to === "claimed").length).toBeLessThan(3);
        expect(task.attempts).toBe(
          mine.filter((r) => r.to === "claimed").length,
        );
      }
    });

    it("runs on a timer until stopped", async () => {
      const { db, a, goal } = await setup();
      const task = await createTask(db, cli, { goalId: goal.id, title: "Tm" });
      await claimNextTask(db, a.actor, { ttlSeconds: 10 });
      // Let the lease run out by moving the clock, then let the timer fire.
      const later = new Date(Date.now() + 11_000);
      setClock(() => later);
      const sweeper = startLeaseSweeper({
        database: async () => db,
        intervalMs: 20,
      });
      try {
        await expect
          .poll(async () => {
            const detail = await getTaskDetail(db, cli, { taskId: task.id });

            return detail.task.status;
          })
          .toBe("ready");
      } finally {
        await sweeper.stop();
      }
    });
  });
});
