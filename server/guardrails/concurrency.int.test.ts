import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { auditLog, goals } from "@/db/schema";
import { createCaller } from "@/server/api/root";
import { listAgents } from "@/server/identity/agents";
import {
  claimNextTask,
  claimTasks,
  completeTask,
  createGoal,
  createTask,
  explainSkips,
} from "@/server/orchestration";
import { openTestDatabase, testKinds } from "@/tests/db";
import { rejection } from "@/tests/failures";
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import { setAgentMaxActiveTasks } from "./concurrency";
import { updateProjectLimits } from "./project-limits";

// Concurrency limits as agents meet them: an agent holds at most its own
// limit (else the project's per-agent default) of tasks at once, a goal at
// most its own; a claim beyond one is refused with the limit named, and
// concurrent claims cannot pass a limit together.

describe.each(testKinds)("concurrency limits on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
  });
  afterAll(async () => handle.close());

  async function setup() {
    const db = handle.db;
    const project = await makeProject(db);
    const admin = await makeUser(db, "admin");
    const operator = await makeUser(db, "operator");
    const viewer = await makeUser(db, "viewer");
    const alpha = await makeAgent(db, project.id, "alpha");
    const goal = await createGoal(db, admin.actor, {
      project: project.slug,
      title: "Ship",
    });
    const tasks = async (count: number, goalId = goal.id, prefix = "Task") => {
      for (let i = 0; i < count; i += 1) {
        await createTask(db, admin.actor, {
          goalId,
          title: `${prefix} ${i}`,
          scope: [`${prefix.toLowerCase()}/${i}/**`],
          priority: count - i,
        });
      }
    };

    return { db, project, admin, operator, viewer, alpha, goal, tasks };
  }

  it("stops an agent at the project's limit per agent, or at its own", async () => {
    const { db, project, admin, operator, viewer, alpha, tasks } =
      await setup();
    await tasks(5);
    await updateProjectLimits(db, admin.actor, {
      project: project.slug,
      maxActivePerAgent: 2,
    });
    const first = await claimNextTask(db, alpha.actor, {});
    await claimNextTask(db, alpha.actor, {});
    const third = await claimTasks(db, alpha.actor, {});
    expect(third.claimed).toEqual([]);
    expect(third.skipped[0]).toMatchObject({
      title: "Task 2",
      reason: "concurrency",
      message:
        "Agent alpha holds 2 active tasks, the project's limit per agent of 2",
    });

    // Finishing one frees a place.
    await completeTask(db, alpha.actor, { taskId: first!.task.id });
    expect((await claimNextTask(db, alpha.actor, {}))?.task.title).toBe(
      "Task 2",
    );

    // Viewers may not change an agent's limit; operators may.
    expect(
      await rejection(
        setAgentMaxActiveTasks(db, viewer.actor, {
          project: project.slug,
          agent: "alpha",
          maxActiveTasks: 4,
        }),
      ),
    ).toMatchObject({ status: 403 });
    const invalid = await rejection(
      setAgentMaxActiveTasks(db, operator.actor, {
        project: project.slug,
        agent: "alpha",
        maxActiveTasks: 0,
      }),
    );
    expect(invalid.details).toEqual([
      { path: "maxActiveTasks", message: "Must be at least 1" },
    ]);
    const caller = createCaller({ db, actor: operator.actor });
    await caller.guardrails.limits.setAgent({
      project: project.slug,
      agent: "alpha",
      maxActiveTasks: 3,
    });
    const [listed] = await listAgents(db, viewer.actor, {
      project: project.slug,
    });
    expect(listed).toMatchObject({ name: "alpha", maxActiveTasks: 3 });
    expect((await claimNextTask(db, alpha.actor, {}))?.task.title).toBe(
      "Task 3",
    );
    const full = await claimTasks(db, alpha.actor, {});
    expect(full.skipped[0]?.message).toBe(
      "Agent alpha holds 3 active tasks, its own limit of 3",
    );
    const [audited] = await db
      .select({ details: auditLog.details })
      .from(auditLog)
      .where(
        and(
          eq(auditLog.projectId, project.id),
          eq(auditLog.action, "agent.max_active_tasks"),
        ),
      );
    expect(audited?.details).toMatchObject({ before: null, after: 3 });
  });

  it("never lets concurrent claims of one agent pass its limit", async () => {
    const { db, project, operator, alpha, tasks } = await setup();
    await tasks(12);
    await setAgentMaxActiveTasks(db, operator.actor, {
      project: project.slug,
      agent: "alpha",
      maxActiveTasks: 3,
    });
    const results = await Promise.all([
      ...Array.from({ length: 6 }, () => claimTasks(db, alpha.actor, {})),
      claimTasks(db, alpha.actor, { count: 5 }),
    ]);
    const held = results.flatMap((result) => result.claimed);
    expect(held).toHaveLength(3);
    // A batch claim stops at the limit too.
    const batch = await claimTasks(db, alpha.actor, { count: 5 });
    expect(batch.claimed).toEqual([]);
    expect(batch.skipped[0]?.reason).toBe("concurrency");
  });

  it("holds a goal to its limit however many agents claim at once", async () => {
    const { db, project, admin, goal, tasks } = await setup();
    await tasks(8);
    const other = await createGoal(db, admin.actor, {
      project: project.slug,
      title: "Docs",
    });
    await tasks(8, other.id, "Doc");
    await db
      .update(goals)
      .set({ maxActiveTasks: 3 })
      .where(eq(goals.id, goal.id));
    const fleet = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        makeAgent(db, project.id, `worker-${i}`),
      ),
    );
    const results = await Promise.all(
      fleet.map((agent) => claimNextTask(db, agent.actor, {})),
    );
    const goalsHeld = results.map((result) => result?.task.goalId);
    expect(goalsHeld.filter((id) => id === goal.id)).toHaveLength(3);
    // The rest took the other goal's tasks rather than nothing.
    expect(goalsHeld.filter((id) => id === other.id)).toHaveLength(7);

    const [why] = await explainSkips(db, project.id, { goalId: goal.id });
    expect(why).toMatchObject({
      reason: "concurrency",
      message: "Goal 'Ship' has 3 active tasks, its limit of 3",
    });
  });
});
