import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { createCaller } from "@/server/api/root";
import { openTestDatabase, testKinds } from "@/tests/db";
import { rejection, trpcFailure } from "@/tests/failures";
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import {
  claimNextTask,
  createGoal,
  createTask,
  heartbeat,
  requestReview,
} from "./index";

// Finished work handed in for review: the agent's lease ends, an operator
// accepts it (done, dependents start) or sends it back (ready again).

describe.each(testKinds)("task review on %s", (kind) => {
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
    const agent = await makeAgent(db, project.id, "worker");
    const goal = await createGoal(db, operator.actor, {
      project: project.slug,
      title: "Ship",
    });
    const first = await createTask(db, operator.actor, {
      goalId: goal.id,
      title: "Write the parser",
      scope: ["src/parser/**"],
    });
    const next = await createTask(db, operator.actor, {
      goalId: goal.id,
      title: "Use the parser",
      scope: ["src/cli/**"],
      dependsOn: [first.id],
    });
    const claim = await claimNextTask(db, agent.actor, {});
    await heartbeat(db, agent.actor, { taskId: claim!.task.id });

    return {
      db,
      agent,
      first,
      next,
      claim: claim!,
      ops: createCaller({ db, actor: operator.actor }),
      viewer: createCaller({ db, actor: viewer.actor }),
    };
  }

  it("ends the lease on hand-in and marks done on acceptance, starting dependents", async () => {
    const { db, agent, first, next, claim, ops } = await setup();
    const handed = await requestReview(db, agent.actor, {
      taskId: first.id,
      fencingToken: claim.lease.fencingToken,
      note: "PR #7, tests in src/parser/parse.test.ts",
    });
    expect(handed.task).toMatchObject({
      status: "in_review",
      holder: null,
      result: "PR #7, tests in src/parser/parse.test.ts",
    });
    // The agent no longer holds it.
    expect(
      await rejection(heartbeat(db, agent.actor, { taskId: first.id })),
    ).toMatchObject({ status: 409 });

    const accepted = await ops.orchestration.tasks.review({
      taskId: first.id,
      decision: "accept",
    });
    expect(accepted.status).toBe("done");
    const dependent = await ops.orchestration.tasks.get({ taskId: next.id });
    expect(dependent.status).toBe("ready");
  });

  it("sends work back to ready with the comment in the history", async () => {
    const { db, agent, first, ops, viewer } = await setup();
    await requestReview(db, agent.actor, { taskId: first.id });
    expect(
      await trpcFailure(
        viewer.orchestration.tasks.review({
          taskId: first.id,
          decision: "return",
        }),
      ),
    ).toMatchObject({ code: "FORBIDDEN" });
    const back = await ops.orchestration.tasks.review({
      taskId: first.id,
      decision: "return",
      comment: "Handle empty input",
    });
    expect(back.status).toBe("ready");
    const detail = await ops.orchestration.tasks.detail({ taskId: first.id });
    expect(detail.transitions.at(-1)).toMatchObject({
      from: "in_review",
      to: "ready",
      reason: "Handle empty input",
    });
    // Only a task waiting for review can be decided.
    expect(
      await trpcFailure(
        ops.orchestration.tasks.review({
          taskId: first.id,
          decision: "accept",
        }),
      ),
    ).toMatchObject({ code: "CONFLICT" });
  });

  it("refuses a hand-in before work started or from a non-holder", async () => {
    const { db, first } = await setup();
    const project = await makeProject(db);
    const stranger = await makeAgent(db, project.id, "stranger");
    expect(
      await rejection(requestReview(db, stranger.actor, { taskId: first.id })),
    ).toMatchObject({ status: 404 });
  });
});
