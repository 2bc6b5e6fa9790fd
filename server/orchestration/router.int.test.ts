import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { auditLog } from "@/db/schema";
import { createCaller } from "@/server/api/root";
import { openTestDatabase, testKinds } from "@/tests/db";
import { trpcFailure } from "@/tests/failures";
import { addMember, makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import { claimNextTask } from "./leases";

describe.each(testKinds)("orchestration router on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
  });
  afterAll(async () => handle.close());

  async function setup() {
    const db = handle.db;
    const project = await makeProject(db);
    const operator = await makeUser(db, "operator");
    const viewer = await makeUser(db, "viewer");
    await addMember(db, project.id, viewer.user.id, "viewer");

    return {
      db,
      project,
      operator: createCaller({ db, actor: operator.actor }),
      operatorEmail: operator.user.email,
      viewer: createCaller({ db, actor: viewer.actor }),
    };
  }

  it("creates, lists and updates goals, audited", async () => {
    const { db, project, operator, operatorEmail, viewer } = await setup();
    const goal = await operator.orchestration.goals.create({
      project: project.slug,
      title: "Migrate to v2",
      budgetUsd: 12.5,
    });
    expect(goal).toMatchObject({ budgetUsd: 12.5, spendUsd: 0 });
    await operator.orchestration.goals.update({
      goalId: goal.id,
      budgetUsd: null,
      status: "paused",
    });
    const listed = await viewer.orchestration.goals.list({
      project: project.slug,
    });
    expect(listed).toMatchObject([
      { title: "Migrate to v2", budgetUsd: null, status: "paused" },
    ]);

    const audit = await db
      .select()
      .from(auditLog)
      .where(eq(auditLog.projectId, project.id));
    expect(audit.map((a) => [a.action, a.actorLabel])).toEqual([
      ["goal.create", operatorEmail],
      ["goal.update", operatorEmail],
    ]);
    expect(audit[1].details).toMatchObject({
      before: { budgetUsd: "12.5000", status: "active" },
      after: { budgetUsd: null, status: "paused" },
    });
  });

  it("reports field errors and refuses viewers", async () => {
    const { project, operator, viewer } = await setup();
    expect(
      await trpcFailure(
        operator.orchestration.goals.create({
          project: project.slug,
          title: " ",
          budgetUsd: -1,
        }),
      ),
    ).toMatchObject({ code: "BAD_REQUEST" });
    expect(
      await trpcFailure(
        viewer.orchestration.goals.create({
          project: project.slug,
          title: "Nope",
        }),
      ),
    ).toEqual({
      code: "FORBIDDEN",
      message: `This needs the operator role in project ${project.slug}; you are viewer`,
      details: { needed: "operator", role: "viewer" },
    });
  });

  it("lets an operator create, release and cancel tasks", async () => {
    const { db, project, operator, viewer } = await setup();
    const goal = await operator.orchestration.goals.create({
      project: project.slug,
      title: "Board",
    });
    const task = await operator.orchestration.tasks.create({
      goalId: goal.id,
      title: "Wire the board",
      scope: ["app/**"],
    });
    const agent = await makeAgent(db, project.id, "worker");
    await claimNextTask(db, agent.actor, {});
    const board = await viewer.orchestration.tasks.list({
      project: project.slug,
    });
    expect(board).toMatchObject([
      { id: task.id, status: "claimed", holder: { name: "worker" } },
    ]);
    expect(
      await trpcFailure(
        viewer.orchestration.tasks.release({ taskId: task.id }),
      ),
    ).toMatchObject({ code: "FORBIDDEN" });
    const released = await operator.orchestration.tasks.release({
      taskId: task.id,
    });
    expect(released).toMatchObject({ status: "ready", holder: null });
    const cancelled = await operator.orchestration.tasks.cancel({
      taskId: task.id,
    });
    expect(cancelled.status).toBe("cancelled");
    expect(
      await trpcFailure(operator.orchestration.tasks.get({ taskId: "x" })),
    ).toMatchObject({ code: "BAD_REQUEST" });
  });

  it("shows a task's dependencies and history; viewers cannot change them", async () => {
    const { project, operator, operatorEmail, viewer } = await setup();
    const goal = await operator.orchestration.goals.create({
      project: project.slug,
      title: "Graph",
    });
    const first = await operator.orchestration.tasks.create({
      goalId: goal.id,
      title: "First",
    });
    const second = await operator.orchestration.tasks.create({
      goalId: goal.id,
      title: "Second",
      dependsOn: [first.id],
    });
    const detail = await viewer.orchestration.tasks.detail({
      taskId: second.id,
    });
    expect(detail).toMatchObject({
      task: { title: "Second", status: "draft" },
      dependsOn: [{ id: first.id, title: "First", status: "ready" }],
      transitions: [
        {
          from: null,
          to: "draft",
          actorType: "operator",
          actorLabel: operatorEmail,
          reason: "waiting on 'First'",
        },
      ],
    });
    expect(
      await trpcFailure(
        viewer.orchestration.tasks.setDependencies({
          taskId: second.id,
          dependsOn: [],
        }),
      ),
    ).toMatchObject({ code: "FORBIDDEN" });
    expect(
      await trpcFailure(
        operator.orchestration.tasks.setDependencies({
          taskId: first.id,
          dependsOn: [second.id],
        }),
      ),
    ).toMatchObject({
      code: "BAD_REQUEST",
      message: "Dependencies form a cycle: First → Second → First",
      details: [{ path: "dependsOn.0" }],
    });
  });
});
