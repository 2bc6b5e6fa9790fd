import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { inTransaction, type Database, type DatabaseHandle } from "@/db/client";
import { agents, orchestrationSettings, reservations } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { newId, now, setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { pinClock, rejection } from "@/tests/failures";
import { makeAgent, makeProject } from "@/tests/fixtures";
import {
  claimNextTask,
  claimTasks,
  completeTask,
  createGoal,
  createTask,
  explainSkips,
  heartbeat,
} from "./index";
import { lockScopeRoots, rootsOverlap, scopeRoot, scopeRoots } from "./scopes";

// What a claim may pick beyond "ready and highest priority": the agent's
// capabilities, other agents' scopes and reservations, the project's lease
// limits; and the fencing value every lease carries.

const cli: Actor = { kind: "cli", label: "cli:test" };

async function giveCapabilities(db: Database, agentId: string, tags: string[]) {
  await db
    .update(agents)
    .set({ capabilities: tags })
    .where(eq(agents.id, agentId));
}

describe.each(testKinds)("claim rules on %s", (kind) => {
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
    const task = (title: string, fields: Record<string, unknown> = {}) =>
      createTask(db, cli, { goalId: goal.id, title, ...fields });

    return { db, project, a, b, goal, task };
  }

  it("gives a task needing capabilities only to an agent that has them all", async () => {
    const { db, a, b, task } = await setup();
    await task("Write the migration", {
      capabilities: ["sql", "migrations"],
      priority: 5,
    });
    await task("Fix a typo");
    await giveCapabilities(db, a.agent.id, ["sql"]);
    await giveCapabilities(db, b.agent.id, ["sql", "migrations", "go"]);

    const first = await claimNextTask(db, a.actor, {});
    expect(first?.task.title).toBe("Fix a typo");
    const second = await claimNextTask(db, b.actor, {});
    expect(second?.task.title).toBe("Write the migration");
  });

  it("skips a task whose scope overlaps another agent's task and says why", async () => {
    const { db, project, a, b, task } = await setup();
    await task("API handlers", { scope: ["src/api/**"], priority: 9 });
    await task("API client", { scope: ["src/api/client.ts"], priority: 8 });
    await task("Docs", { scope: ["docs/**"], priority: 1 });

    const first = await claimNextTask(db, a.actor, {});
    expect(first?.task.title).toBe("API handlers");
    // "src/api/client.ts" lies inside alpha's "src/api/**".
    const second = await claimNextTask(db, b.actor, {});
    expect(second?.task.title).toBe("Docs");

    const result = await claimTasks(db, b.actor, {});
    expect(result.claimed).toEqual([]);
    expect(result.skipped).toEqual([
      expect.objectContaining({
        title: "API client",
        reason: "scope",
        message:
          "Scope src/api/client.ts overlaps task 'API handlers' held by agent alpha",
      }),
    ]);

    // The operator's view of the same task, with no agent in mind.
    const [why] = await explainSkips(db, project.id, {
      taskId: result.skipped[0]!.taskId,
    });
    expect(why?.reason).toBe("scope");

    // Once alpha is done, the scope is free again.
    await completeTask(db, a.actor, { taskId: first!.task.id });
    const third = await claimNextTask(db, b.actor, {});
    expect(third?.task.title).toBe("API client");
  });

  it("lets one agent hold overlapping tasks of its own", async () => {
    const { db, a, task } = await setup();
    await task("One", { scope: ["src/**"] });
    await task("Two", { scope: ["src/lib/**"] });
    expect((await claimNextTask(db, a.actor, {}))?.task.title).toBe("One");
    expect((await claimNextTask(db, a.actor, {}))?.task.title).toBe("Two");
  });

  it("treats a scope starting with a wildcard as the whole project", async () => {
    const { db, a, b, task } = await setup();
    await task("Lint everything", { scope: ["**/*.ts"], priority: 3 });
    await task("Docs", { scope: ["docs/**"] });
    expect((await claimNextTask(db, a.actor, {}))?.task.title).toBe(
      "Lint everything",
    );
    expect(await claimNextTask(db, b.actor, {})).toBeNull();
  });

  it("skips tasks inside another agent's live reservation", async () => {
    const { db, project, a, b, task } = await setup();
    await task("Touch CI", { scope: [".github/workflows/ci.yml"] });
    const at = now();
    const globs = [".github/**"];
    await db.insert(reservations).values({
      id: newId(),
      projectId: project.id,
      agentId: a.agent.id,
      globs,
      roots: scopeRoots(globs),
      mode: "exclusive",
      ttlSeconds: 60,
      createdAt: at,
      expiresAt: new Date(at.getTime() + 60_000),
    });
    const result = await claimTasks(db, b.actor, {});
    expect(result.claimed).toEqual([]);
    expect(result.skipped[0]).toMatchObject({
      reason: "reservation",
      message: expect.stringContaining("by agent alpha"),
    });
    // The holder of the reservation may take the task.
    expect((await claimNextTask(db, a.actor, {}))?.task.title).toBe("Touch CI");
  });

  it("says which capability is missing when nothing can be claimed", async () => {
    const { db, a, task } = await setup();
    await task("Rust port", { capabilities: ["rust"] });
    const result = await claimTasks(db, a.actor, {});
    expect(result.skipped).toEqual([
      expect.objectContaining({
        reason: "capability",
        message: "Needs capabilities rust that agent alpha lacks",
      }),
    ]);
  });

  it("claims a batch in priority order in one call", async () => {
    const { db, a, task } = await setup();
    for (let i = 0; i < 5; i += 1) {
      await task(`Task ${i}`, { priority: i, scope: [`pkg/${i}/**`] });
    }
    const result = await claimTasks(db, a.actor, { count: 3 });
    expect(result.claimed.map((c) => c.task.title)).toEqual([
      "Task 4",
      "Task 3",
      "Task 2",
    ]);
    const leases = new Set(result.claimed.map((c) => c.lease.id));
    expect(leases.size).toBe(3);
    for (const claim of result.claimed) {
      expect(claim.task.holder?.name).toBe("alpha");
      expect(claim.lease.fencingToken).toBe(claim.task.leaseVersion);
    }
    expect(
      await rejection(claimTasks(db, a.actor, { count: 51 })),
    ).toMatchObject({
      status: 400,
      details: [{ path: "count", message: "Claim at most 50 tasks at once" }],
    });
  });

  it("refuses writes carrying a stale fencing token", async () => {
    const { db, a, task } = await setup();
    const clock = pinClock();
    await task("Flaky");
    const first = await claimNextTask(db, a.actor, { ttlSeconds: 10 });
    clock.advance(11);
    // The lease lapsed and the same agent claimed the task again: the old
    // lease's writes must not land on the new one.
    const second = await claimNextTask(db, a.actor, { ttlSeconds: 60 });
    expect(second?.task.id).toBe(first?.task.id);
    expect(second!.lease.fencingToken).toBeGreaterThan(
      first!.lease.fencingToken,
    );
    const stale = await rejection(
      completeTask(db, a.actor, {
        taskId: first!.task.id,
        fencingToken: first!.lease.fencingToken,
      }),
    );
    expect(stale.status).toBe(409);
    expect(stale.message).toMatch(/Fencing token 1 .* is stale/);
    const beat = await heartbeat(db, a.actor, {
      taskId: second!.task.id,
      fencingToken: second!.lease.fencingToken,
    });
    expect(beat.task.status).toBe("in_progress");
  });

  it("uses the project's default lease and refuses one above its maximum", async () => {
    const { db, project, a, task } = await setup();
    const clock = pinClock();
    await db.insert(orchestrationSettings).values({
      projectId: project.id,
      maxAttempts: 3,
      defaultLeaseSeconds: 120,
      maxLeaseSeconds: 600,
      updatedAt: now(),
    });
    await task("One");
    await task("Two");
    const claim = await claimNextTask(db, a.actor, {});
    expect(claim!.lease.expiresAt).toEqual(
      new Date(clock.at().getTime() + 120_000),
    );
    expect(
      await rejection(claimNextTask(db, a.actor, { ttlSeconds: 601 })),
    ).toMatchObject({
      status: 400,
      details: [
        {
          path: "ttlSeconds",
          message: "This project's leases last at most 600 seconds",
        },
      ],
    });
    expect(
      await rejection(
        heartbeat(db, a.actor, { taskId: claim!.task.id, ttlSeconds: 900 }),
      ),
    ).toMatchObject({ status: 400 });
  });

  it("never lets two agents hold overlapping scopes, however many claim at once", async () => {
    const { db, project, task } = await setup();
    // Six directories, three tasks in each, some scoped to the whole
    // directory and some to one file in it: any two in one directory
    // overlap.
    for (let dir = 0; dir < 6; dir += 1) {
      await task(`dir ${dir} all`, { scope: [`src/m${dir}/**`] });
      await task(`dir ${dir} a`, { scope: [`src/m${dir}/a.ts`] });
      await task(`dir ${dir} b`, { scope: [`src/m${dir}/b.ts`] });
    }
    const fleet = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        makeAgent(db, project.id, `worker-${i}`),
      ),
    );
    const results = await Promise.all(
      fleet.map((agent) => claimTasks(db, agent.actor, {})),
    );
    const held = results.flatMap((result, i) =>
      result.claimed.map((c) => ({ agent: i, scope: c.task.scope[0]! })),
    );
    expect(held.length).toBeGreaterThan(0);
    // No two held scopes overlap ("src/m0/a.ts" and "src/m0/b.ts" may be
    // held at once; either of them with "src/m0/**" may not).
    for (const [i, one] of held.entries()) {
      for (const other of held.slice(i + 1)) {
        const overlap = rootsOverlap(
          scopeRoot(one.scope),
          scopeRoot(other.scope),
        );
        expect(overlap, `${one.scope} and ${other.scope}`).toBe(false);
      }
    }
  });

  it("reserves estimates so concurrent claims cannot pass a goal's budget together", async () => {
    const { db, project } = await setup();
    const goal = await createGoal(db, cli, {
      project: project.slug,
      title: "Small budget",
      budgetUsd: 1,
    });
    for (let i = 0; i < 50; i += 1) {
      await createTask(db, cli, {
        goalId: goal.id,
        title: `Cheap ${i}`,
        scope: [`cheap/${i}/**`],
        estimateUsd: 0.1,
      });
    }
    const fleet = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        makeAgent(db, project.id, `cheap-${i}`),
      ),
    );
    const results = await Promise.allSettled(
      fleet.map((agent) => claimNextTask(db, agent.actor, { goalId: goal.id })),
    );
    const won = results.filter(
      (r) => r.status === "fulfilled" && r.value !== null,
    );
    // $1 holds ten $0.10 tasks; the other claims get nothing.
    expect(won).toHaveLength(10);
    for (const result of results) {
      if (result.status === "rejected") throw result.reason;
    }

    // The reservation is given back when a task ends.
    const winner = won[0] as PromiseFulfilledResult<{ task: { id: string } }>;
    const holder = fleet[results.indexOf(won[0]!)]!;
    await completeTask(db, holder.actor, { taskId: winner.value.task.id });
    const after = await claimTasks(db, fleet[49]!.actor, { goalId: goal.id });
    expect(after.claimed).toHaveLength(1);
    const none = await claimTasks(db, fleet[48]!.actor, { goalId: goal.id });
    expect(none.claimed).toHaveLength(0);
    expect(none.skipped[0]).toMatchObject({ reason: "budget" });
  });

  it("compares scopes after cleaning them and refuses ones leaving the repository", async () => {
    const { db, a, b, task } = await setup();
    await task("Plain", { scope: ["src/a.ts"], priority: 2 });
    await task("Dotted", { scope: ["./src/./a.ts"], priority: 1 });
    expect((await claimNextTask(db, a.actor, {}))?.task.title).toBe("Plain");
    // The same file spelt differently still overlaps.
    expect(await claimNextTask(db, b.actor, {})).toBeNull();

    for (const [glob, message] of [
      [
        "src/../lib/x.ts",
        "Must not contain '..': scopes are paths inside the repository",
      ],
      ["src\\a.ts", "Use / to separate folders, not \\"],
      ["/./", "Must name a path, not only slashes or dots"],
    ]) {
      expect(await rejection(task("Bad", { scope: [glob] }))).toMatchObject({
        status: 400,
        details: [{ path: "scope.0", message }],
      });
    }
  });

  it.runIf(kind === "postgres")(
    "reads a heartbeat's time after waiting for a claim of an overlapping scope",
    async () => {
      const { db, project, a, task } = await setup();
      const clock = pinClock();
      await task("Wide", { scope: ["race/**"] });
      const claim = await claimNextTask(db, a.actor, { ttlSeconds: 10 });
      clock.advance(9);
      // A claim of an overlapping scope is in flight and holds the locks.
      let release = () => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      let locked = () => {};
      const holding = new Promise<void>((resolve) => (locked = resolve));
      const inFlight = inTransaction(db, async (tx) => {
        await lockScopeRoots(tx, project.id, ["race/a.ts"]);
        locked();
        await gate;
      });
      await holding;
      const beat = heartbeat(db, a.actor, {
        taskId: claim!.task.id,
        fencingToken: claim!.lease.fencingToken,
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      // The lease lapses while the heartbeat waits; the claim then sees
      // it lapsed, so the heartbeat must not extend it afterwards.
      clock.advance(2);
      release();
      await inFlight;
      expect(await rejection(beat)).toMatchObject({
        status: 409,
        message: expect.stringContaining("expired"),
      });
    },
  );
});
