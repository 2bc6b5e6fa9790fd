import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { agents, auditLog, goals, taskLeases } from "@/db/schema";
import { evaluate } from "@/server/guardrails/policy";
import { pauseProject, resumeProject } from "@/server/guardrails/kill-switch";
import { DomainError } from "@/server/errors";
import { pauseAgent, setAgentCapabilities } from "@/server/identity/agents";
import {
  agentNotices,
  claimNextTask,
  claimTasks,
  createGoal,
  createTask,
  heartbeat,
  reservePaths,
} from "@/server/orchestration";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import { pauseGoal, resumeGoal } from "./goal-pause";
import { reassignTask } from "./reassign";

// Operators stepping in: handing a task to a named agent, and pausing a
// goal, as the agents involved then meet it in their next calls.

async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) {
      return { status: error.status, message: error.message };
    }
    throw error;
  }
  throw new Error("expected a refusal");
}

const bash = { toolName: "Bash", toolInput: { command: "npm test" } };

describe.each(testKinds)("interventions on %s", (kind) => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await openTestDatabase(kind);
  });
  afterAll(() => handle.close());

  async function setup() {
    const db = handle.db;
    const project = await makeProject(db);
    const first = await makeAgent(db, project.id, "first");
    const second = await makeAgent(db, project.id, "second");
    const operator = await makeUser(db, "operator");
    const viewer = await makeUser(db, "viewer");
    const goal = await createGoal(db, operator.actor, {
      project: project.slug,
      title: "Ship",
    });

    return { db, project, first, second, operator, viewer, goal };
  }

  it("hands a held task to another agent, fencing out the old holder", async () => {
    const { db, project, first, second, operator, goal } = await setup();
    const task = await createTask(db, operator.actor, {
      goalId: goal.id,
      title: "api",
      scope: ["src/api/**"],
    });
    const claimed = await claimNextTask(db, first.actor, {});
    expect(claimed?.task.id).toBe(task.id);

    const moved = await reassignTask(db, operator.actor, {
      taskId: task.id,
      agent: "second",
      reason: "first is stuck",
    });
    expect(moved).toMatchObject({
      status: "claimed",
      holder: { name: "second" },
      leaseVersion: (claimed?.lease.fencingToken ?? 0) + 1,
    });

    // The old holder's next call is refused; it is told why in its notices.
    const stale = await refusal(
      heartbeat(db, first.actor, {
        taskId: task.id,
        fencingToken: claimed?.lease.fencingToken,
      }),
    );
    expect(stale.status).toBe(409);
    const told = await agentNotices(db, first.actor);
    expect(told.directives.map((d) => d.body).join("\n")).toMatch(
      /reassigned to agent second; your lease on it has ended.*first is stuck/,
    );

    // The new holder learns it holds the task and works under that lease.
    const news = await agentNotices(db, second.actor);
    expect(news.directives).toHaveLength(1);
    expect(news.directives[0]).toMatchObject({ priority: "high" });
    expect(news.directives[0].body).toContain(`Task 'api' (${task.id})`);
    const beat = await heartbeat(db, second.actor, {
      taskId: task.id,
      fencingToken: moved.leaseVersion,
    });
    expect(beat.task.status).toBe("in_progress");

    const leases = await db
      .select()
      .from(taskLeases)
      .where(eq(taskLeases.taskId, task.id))
      .orderBy(taskLeases.claimedAt);
    expect(leases.map((l) => l.endReason)).toEqual(["reassigned", null]);
    const [audit] = await db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.projectId, project.id),
          eq(auditLog.action, "task.reassign"),
        ),
      );
    expect(audit.details).toMatchObject({
      agent: "second",
      previousHolder: "first",
      reason: "first is stuck",
    });
  });

  it("refuses a hand-over the target agent could not take", async () => {
    const { db, project, first, operator, viewer, goal } = await setup();
    const task = await createTask(db, operator.actor, {
      goalId: goal.id,
      title: "db",
      scope: ["db/**"],
      capabilities: ["migrations"],
    });
    const slug = project.slug;

    const lacking = await refusal(
      reassignTask(db, operator.actor, { taskId: task.id, agent: "second" }),
    );
    expect(lacking).toEqual({
      status: 409,
      message:
        "Agent second lacks the capabilities migrations that task 'db' needs",
    });
    await setAgentCapabilities(db, operator.actor, {
      project: slug,
      agent: "second",
      capabilities: ["migrations"],
    });

    // Another agent holds part of the scope.
    await reservePaths(db, first.actor, { globs: ["db/schema.ts"] });
    const overlapping = await refusal(
      reassignTask(db, operator.actor, { taskId: task.id, agent: "second" }),
    );
    expect(overlapping.status).toBe(409);
    expect(overlapping.message).toMatch(
      /Task 'db' cannot go to agent second: scope db overlaps .*first/,
    );

    const third = await makeAgent(db, project.id, "third");
    await pauseAgent(db, operator.actor, {
      project: slug,
      agent: third.agent.name,
    });
    expect(
      await refusal(
        reassignTask(db, operator.actor, { taskId: task.id, agent: "third" }),
      ),
    ).toEqual({ status: 409, message: "Agent third is paused" });

    expect(
      (
        await refusal(
          reassignTask(db, viewer.actor, { taskId: task.id, agent: "second" }),
        )
      ).status,
    ).toBe(403);
    expect(
      await refusal(
        reassignTask(db, operator.actor, { taskId: task.id, agent: "nobody" }),
      ),
    ).toMatchObject({
      status: 400,
      message: "No agent 'nobody' in this project",
    });

    await pauseProject(db, operator.actor, { project: slug, reason: "audit" });
    expect(
      await refusal(
        reassignTask(db, operator.actor, { taskId: task.id, agent: "second" }),
      ),
    ).toEqual({
      status: 403,
      message: "The project is paused by an operator: audit",
    });
    await resumeProject(db, operator.actor, { project: slug });
  });

  it("a hand-over obeys the target's concurrency limit, the goal's and its budgets", async () => {
    const { db, project, second, operator, goal } = await setup();
    const make = (title: string, goalId = goal.id) =>
      createTask(db, operator.actor, {
        goalId,
        title,
        scope: [`src/${title}/**`],
      });
    const held = await make("held");
    const other = await make("other");
    expect((await claimNextTask(db, second.actor, {}))?.task.id).toBe(held.id);

    // second may hold one task: handing it another is refused, naming why.
    await db
      .update(agents)
      .set({ maxActiveTasks: 1 })
      .where(eq(agents.id, second.agent.id));
    expect(
      await refusal(
        reassignTask(db, operator.actor, { taskId: other.id, agent: "second" }),
      ),
    ).toEqual({
      status: 409,
      message: "Agent second holds 1 active task, its own limit of 1",
    });

    // The goal may have one task held, and second holds it already.
    await db
      .update(agents)
      .set({ maxActiveTasks: null })
      .where(eq(agents.id, second.agent.id));
    await db
      .update(goals)
      .set({ maxActiveTasks: 1 })
      .where(eq(goals.id, goal.id));
    expect(
      await refusal(
        reassignTask(db, operator.actor, { taskId: other.id, agent: "first" }),
      ),
    ).toMatchObject({ status: 409, message: /Goal 'Ship' has 1 active task/ });
    // Moving the held task itself does not count it twice.
    const moved = await reassignTask(db, operator.actor, {
      taskId: held.id,
      agent: "first",
    });
    expect(moved.holder).toMatchObject({ name: "first" });

    // A goal whose budget is spent gets no new holder either.
    const broke = await createGoal(db, operator.actor, {
      project: project.slug,
      title: "Broke",
    });
    await db
      .update(goals)
      .set({ budgetUsd: "0" })
      .where(eq(goals.id, broke.id));
    const unpaid = await make("unpaid", broke.id);
    expect(
      await refusal(
        reassignTask(db, operator.actor, { taskId: unpaid.id, agent: "first" }),
      ),
    ).toMatchObject({ status: 403, message: /Broke/ });
  });

  it("a paused goal offers no claims and refuses its holders' tool calls", async () => {
    const { db, first, second, operator, goal } = await setup();
    await createTask(db, operator.actor, {
      goalId: goal.id,
      title: "held",
      scope: ["a/**"],
    });
    await createTask(db, operator.actor, {
      goalId: goal.id,
      title: "waiting",
      scope: ["b/**"],
    });
    expect(await claimNextTask(db, first.actor, {})).not.toBeNull();

    const paused = await pauseGoal(db, operator.actor, { goalId: goal.id });
    expect(paused.status).toBe("paused");
    const denied = await evaluate(db, {
      projectId: first.actor.projectId,
      agentId: first.actor.agentId,
      toolUse: bash,
    });
    expect(denied).toEqual({
      decision: "deny",
      rule: "goal.paused",
      scope: "goal",
      reason:
        "Goal 'Ship' is paused by an operator; stop work on its tasks until it is resumed",
    });
    // An agent holding nothing of the goal is not affected.
    const idle = await evaluate(db, {
      projectId: second.actor.projectId,
      agentId: second.actor.agentId,
      toolUse: bash,
    });
    expect(idle.decision).toBe("allow");
    const nothing = await claimTasks(db, second.actor, {});
    expect(nothing.claimed).toEqual([]);
    expect(nothing.skipped).toContainEqual(
      expect.objectContaining({
        title: "waiting",
        reason: "goal_paused",
        message: "Goal 'Ship' is paused",
      }),
    );
    expect(
      await refusal(pauseGoal(db, operator.actor, { goalId: goal.id })),
    ).toEqual({
      status: 409,
      message: "Goal 'Ship' is paused; only an active goal can be paused",
    });

    await resumeGoal(db, operator.actor, { goalId: goal.id });
    const allowed = await evaluate(db, {
      projectId: first.actor.projectId,
      agentId: first.actor.agentId,
      toolUse: bash,
    });
    expect(allowed.decision).toBe("allow");
    expect((await claimNextTask(db, second.actor, {}))?.task.title).toBe(
      "waiting",
    );
    const actions = await db
      .select({ action: auditLog.action, details: auditLog.details })
      .from(auditLog)
      .where(eq(auditLog.targetId, goal.id));
    expect(actions.filter((a) => a.action === "goal.update")).toHaveLength(2);
  });
});
