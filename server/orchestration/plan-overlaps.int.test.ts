import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { reservations } from "@/db/schema";
import { createCaller } from "@/server/api/root";
import { newId, now } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import { claimNextTask, createTask } from "./index";
import { submitPlan } from "./plans";
import { scopeRoots } from "./scopes";

// The plan review page lists the in-flight work a plan would collide with.

describe.each(testKinds)("plan overlaps on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
  });
  afterAll(async () => handle.close());

  it("names in-flight tasks and reservations whose scopes a planned task overlaps", async () => {
    const db = handle.db;
    const project = await makeProject(db);
    const operator = await makeUser(db, "operator");
    const ops = createCaller({ db, actor: operator.actor });
    const worker = await makeAgent(db, project.id, "worker");
    const planner = await makeAgent(db, project.id, "planner");
    const running = await ops.orchestration.goals.create({
      project: project.slug,
      title: "Running work",
    });
    await createTask(db, operator.actor, {
      goalId: running.id,
      title: "Rework the API",
      scope: ["src/api/**"],
    });
    await claimNextTask(db, worker.actor, {});
    await createTask(db, operator.actor, {
      goalId: running.id,
      title: "Finished docs",
      scope: ["docs/**"],
    });
    const at = now();
    await db.insert(reservations).values({
      id: newId(),
      projectId: project.id,
      agentId: worker.agent.id,
      globs: ["package.json"],
      roots: scopeRoots(["package.json"]),
      mode: "exclusive",
      ttlSeconds: 300,
      createdAt: at,
      expiresAt: new Date(at.getTime() + 300_000),
    });

    const goal = await ops.orchestration.goals.create({
      project: project.slug,
      title: "Checkout",
    });
    const plan = await submitPlan(db, planner.actor, {
      goalId: goal.id,
      tasks: [
        { key: "client", title: "API client", scope: ["src/api/client.ts"] },
        { key: "deps", title: "Bump deps", scope: ["package.json", "lib/**"] },
        { key: "web", title: "Web page", scope: ["web/**"] },
      ],
    });

    const overlaps = await ops.orchestration.plans.overlaps({
      planId: plan.id,
    });
    expect(overlaps).toEqual([
      expect.objectContaining({
        key: "client",
        kind: "task",
        title: "Rework the API",
        status: "claimed",
        holder: "worker",
        ours: "src/api/client.ts",
        theirs: "src/api/**",
      }),
      expect.objectContaining({
        key: "deps",
        kind: "reservation",
        holder: "worker",
        ours: "package.json",
        theirs: "package.json",
      }),
    ]);
  });
});
