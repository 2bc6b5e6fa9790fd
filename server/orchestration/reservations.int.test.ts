import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { tasks } from "@/db/schema";
import { createCaller } from "@/server/api/root";
import { pauseProject } from "@/server/guardrails/kill-switch";
import type { Actor } from "@/server/identity/actor";
import { pauseAgent } from "@/server/identity/agents";
import { newId, now, setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { pinClock, rejection, trpcFailure } from "@/tests/failures";
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import { createGoal } from "./goals";
import {
  checkPaths,
  listMyReservations,
  listProjectReservations,
  releaseReservation,
  renewReservation,
  reservePaths,
} from "./reservations";
import { createTask } from "./tasks";

// Path reservations as agents meet them: what is granted, what conflicts
// and with whom, renewals and releases by the wrong agent, and which
// concrete files another agent holds.

const cli: Actor = { kind: "cli", label: "cli:test" };

type AgentActor = Extract<Actor, { kind: "agent" }>;

describe.each(testKinds)("path reservations on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
  });
  afterAll(async () => handle.close());
  afterEach(() => setClock(null));

  async function setup() {
    const db = handle.db;
    const project = await makeProject(db);
    const alpha = await makeAgent(db, project.id, "alpha");
    const beta = await makeAgent(db, project.id, "beta");
    const goal = await createGoal(db, cli, {
      project: project.slug,
      title: "Ship the API",
    });

    return { db, project, alpha: alpha.actor, beta: beta.actor, goal };
  }

  /** A task `agent` holds under a live lease, as a claim leaves it. */
  async function heldTask(
    goalId: string,
    agent: AgentActor,
    title: string,
    scope: string[],
    leaseSeconds = 300,
  ) {
    const db = handle.db;
    const task = await createTask(db, cli, { goalId, title, scope });
    await db
      .update(tasks)
      .set({
        status: "in_progress",
        holderAgentId: agent.agentId,
        leaseId: newId(),
        leaseExpiresAt: new Date(now().getTime() + leaseSeconds * 1000),
      })
      .where(eq(tasks.id, task.id));

    return task;
  }

  it("grants a reservation for 5 minutes by default, exclusive", async () => {
    const { db, alpha } = await setup();
    const clock = pinClock();

    const result = await reservePaths(db, alpha, {
      globs: ["./src/api/**", "docs/api.md"],
      reason: "renaming the orders route",
    });

    expect(result).toMatchObject({
      granted: true,
      conflicts: [],
      reservation: {
        agent: { id: alpha.agentId, name: "alpha" },
        globs: ["src/api/**", "docs/api.md"],
        mode: "exclusive",
        reason: "renaming the orders route",
        ttlSeconds: 300,
        releasedAt: null,
      },
    });
    expect(result.reservation?.expiresAt.getTime()).toBe(
      clock.at().getTime() + 300_000,
    );
    const mine = await listMyReservations(db, alpha);
    expect(mine.reservations.map((r) => r.id)).toEqual([
      result.reservation?.id,
    ]);
  });

  it("refuses bad input field by field", async () => {
    const { db, alpha } = await setup();

    const cases: [unknown, string][] = [
      [{ globs: [] }, "globs"],
      [{ globs: ["  "] }, "globs.0"],
      [{ globs: ["/"] }, "globs.0"],
      [{ globs: ["../other/**"] }, "globs.0"],
      [{ globs: Array.from({ length: 101 }, (_, i) => `f${i}`) }, "globs"],
      [{ globs: ["src/**"], ttlSeconds: 5 }, "ttlSeconds"],
      [{ globs: ["src/**"], ttlSeconds: 3601 }, "ttlSeconds"],
      [{ globs: ["src/**"], mode: "private" }, "mode"],
      [{ globs: ["src/**"], owner: "me" }, "(root)"],
    ];
    for (const [input, path] of cases) {
      const refused = await rejection(reservePaths(db, alpha, input));
      expect(refused.status).toBe(400);
      expect(refused.details).toEqual(
        expect.arrayContaining([expect.objectContaining({ path })]),
      );
    }
    expect((await listMyReservations(db, alpha)).reservations).toEqual([]);
  });

  it("refuses an overlapping exclusive reservation and names its holder", async () => {
    const { db, alpha, beta } = await setup();
    const first = await reservePaths(db, beta, {
      globs: ["src/api/**"],
      reason: "refactor",
    });

    const second = await reservePaths(db, alpha, {
      globs: ["src/api/orders.ts", "docs/**"],
    });

    expect(second).toMatchObject({
      granted: false,
      reservation: null,
      conflicts: [
        {
          kind: "reservation",
          holder: "beta",
          reservationId: first.reservation?.id,
          globs: ["src/api/**"],
          mode: "exclusive",
          expiresAt: first.reservation?.expiresAt,
        },
      ],
    });
    expect(second.granted ? "" : second.message).toContain(
      "held by agent beta",
    );
    // Nothing of a refused request is reserved, not even the free glob.
    expect((await listMyReservations(db, alpha)).reservations).toEqual([]);
    const elsewhere = await reservePaths(db, alpha, { globs: ["docs/**"] });
    expect(elsewhere.granted).toBe(true);
  });

  it("lets shared reservations coexist but not with exclusive ones", async () => {
    const { db, alpha, beta } = await setup();
    const third = (await makeAgent(db, alpha.projectId, "gamma")).actor;

    const betaShared = await reservePaths(db, beta, {
      globs: ["docs/**"],
      mode: "shared",
    });
    const alphaShared = await reservePaths(db, alpha, {
      globs: ["docs/guide/**"],
      mode: "shared",
    });
    expect([betaShared.granted, alphaShared.granted]).toEqual([true, true]);

    const exclusive = await reservePaths(db, third, {
      globs: ["docs/guide/intro.md"],
    });
    expect(exclusive.granted).toBe(false);
    expect(exclusive.conflicts.map((c) => [c.holder, c.mode]).sort()).toEqual([
      ["alpha", "shared"],
      ["beta", "shared"],
    ]);

    await reservePaths(db, third, { globs: ["src/**"] });
    const sharedOverExclusive = await reservePaths(db, alpha, {
      globs: ["src/web/**"],
      mode: "shared",
    });
    expect(sharedOverExclusive).toMatchObject({
      granted: false,
      conflicts: [{ kind: "reservation", holder: "gamma", mode: "exclusive" }],
    });
  });

  it("counts a task held under a live lease as an exclusive hold", async () => {
    const { db, alpha, beta, goal } = await setup();
    const task = await heldTask(goal.id, beta, "Fix login", ["src/auth/**"]);

    for (const mode of ["exclusive", "shared"] as const) {
      const result = await reservePaths(db, alpha, {
        globs: ["src/auth/session.ts"],
        mode,
      });
      expect(result).toMatchObject({
        granted: false,
        conflicts: [
          {
            kind: "task",
            holder: "beta",
            taskId: task.id,
            taskTitle: "Fix login",
            globs: ["src/auth/**"],
            mode: "exclusive",
          },
        ],
      });
      expect(result.granted ? "" : result.message).toContain(
        "task 'Fix login' held by agent beta",
      );
    }
  });

  it("never sets an agent's own holds against it", async () => {
    const { db, alpha, goal } = await setup();
    await heldTask(goal.id, alpha, "Fix login", ["src/auth/**"]);
    await reservePaths(db, alpha, { globs: ["src/**"] });

    const again = await reservePaths(db, alpha, { globs: ["src/auth/x.ts"] });

    expect(again).toMatchObject({ granted: true, conflicts: [] });
    const checked = await checkPaths(db, alpha, { paths: ["src/auth/x.ts"] });
    expect(checked.paths).toEqual([
      { path: "src/auth/x.ts", held: false, holds: [] },
    ]);
  });

  it("stops counting expired and released holds", async () => {
    const { db, alpha, beta, goal } = await setup();
    const clock = pinClock();
    await reservePaths(db, beta, { globs: ["src/**"], ttlSeconds: 60 });
    await heldTask(goal.id, beta, "Docs", ["docs/**"], 30);
    const released = await reservePaths(db, beta, { globs: ["lib/**"] });
    await releaseReservation(db, beta, {
      reservationId: released.reservation?.id,
    });

    expect(
      (await reservePaths(db, alpha, { globs: ["lib/x.ts"] })).granted,
    ).toBe(true);
    expect(
      (await reservePaths(db, alpha, { globs: ["src/x.ts"] })).granted,
    ).toBe(false);
    clock.advance(61);
    expect(
      (await reservePaths(db, alpha, { globs: ["src/x.ts"] })).granted,
    ).toBe(true);
    expect(
      (await reservePaths(db, alpha, { globs: ["docs/x.md"] })).granted,
    ).toBe(true);
    expect((await listMyReservations(db, beta)).reservations).toEqual([]);
  });

  it("renews the holder's reservation and refuses everyone else", async () => {
    const { db, alpha, beta } = await setup();
    const clock = pinClock();
    const { reservation } = await reservePaths(db, beta, {
      globs: ["src/**"],
      ttlSeconds: 60,
    });
    const reservationId = reservation?.id;
    clock.advance(50);

    const renewed = await renewReservation(db, beta, { reservationId });
    expect(renewed.reservation.expiresAt.getTime()).toBe(
      clock.at().getTime() + 60_000,
    );
    const longer = await renewReservation(db, beta, {
      reservationId,
      ttlSeconds: 600,
    });
    expect(longer.reservation).toMatchObject({ ttlSeconds: 600 });

    const stranger = await rejection(
      renewReservation(db, alpha, { reservationId }),
    );
    expect(stranger).toMatchObject({
      status: 409,
      details: { holder: "beta", status: "live" },
    });
    expect(stranger.message).toContain("is held by agent beta, not by you");

    clock.advance(601);
    const expired = await rejection(
      renewReservation(db, beta, { reservationId }),
    );
    expect(expired).toMatchObject({
      status: 409,
      details: { status: "expired" },
    });
    expect(expired.message).toContain("expired at");

    const unknown = await rejection(
      renewReservation(db, beta, { reservationId: newId() }),
    );
    expect(unknown.status).toBe(404);
  });

  it("releases once, only by its holder, and says so otherwise", async () => {
    const { db, alpha, beta } = await setup();
    const { reservation } = await reservePaths(db, beta, {
      globs: ["src/**"],
    });
    const reservationId = reservation?.id;

    const stranger = await rejection(
      releaseReservation(db, alpha, { reservationId }),
    );
    expect(stranger).toMatchObject({
      status: 409,
      details: { holder: "beta", status: "live" },
    });

    const released = await releaseReservation(db, beta, { reservationId });
    expect(released).toMatchObject({
      released: true,
      reservation: { id: reservationId, agent: { name: "beta" } },
    });
    expect(released.reservation.releasedAt).toBeInstanceOf(Date);

    const again = await rejection(
      releaseReservation(db, beta, { reservationId }),
    );
    expect(again).toMatchObject({
      status: 409,
      details: { status: "released" },
    });
    expect(again.message).toContain("was already released at");
    const renewAfter = await rejection(
      renewReservation(db, beta, { reservationId }),
    );
    expect(renewAfter).toMatchObject({
      status: 409,
      details: { status: "released" },
    });
  });

  it("refuses paused agents and paused projects, but lets them release", async () => {
    const { db, project, alpha, beta } = await setup();
    const { reservation } = await reservePaths(db, beta, {
      globs: ["src/**"],
    });
    await pauseAgent(db, cli, {
      project: project.slug,
      agent: "beta",
      reason: "looping",
    });

    const paused = await rejection(
      reservePaths(db, beta, { globs: ["docs/**"] }),
    );
    expect(paused).toMatchObject({
      status: 403,
      message: "Agent beta is paused by an operator: looping",
    });
    expect(
      await rejection(
        renewReservation(db, beta, { reservationId: reservation?.id }),
      ),
    ).toMatchObject({ status: 403 });
    expect(
      await releaseReservation(db, beta, { reservationId: reservation?.id }),
    ).toMatchObject({ released: true });

    await pauseProject(db, cli, {
      project: project.slug,
      reason: "runaway spend",
    });
    expect(
      await rejection(reservePaths(db, alpha, { globs: ["docs/**"] })),
    ).toMatchObject({
      status: 403,
      message: "The project is paused by an operator: runaway spend",
    });
  });

  it("checks concrete paths precisely against the holders' globs", async () => {
    const { db, alpha, beta, goal } = await setup();
    const clock = pinClock();
    const { reservation } = await reservePaths(db, beta, {
      globs: ["src/*.ts"],
    });
    const task = await heldTask(goal.id, beta, "Write docs", ["docs/api/**"]);

    const checked = await checkPaths(db, alpha, {
      paths: ["src/x.ts", "src/api/x.ts", "./docs/api/orders.md", "README.md"],
    });

    expect(checked.paths).toEqual([
      {
        path: "src/x.ts",
        held: true,
        holds: [
          {
            kind: "reservation",
            holder: "beta",
            holderAgentId: beta.agentId,
            reservationId: reservation?.id,
            globs: ["src/*.ts"],
            mode: "exclusive",
            expiresAt: new Date(clock.at().getTime() + 300_000),
            matched: "src/*.ts",
          },
        ],
      },
      { path: "src/api/x.ts", held: false, holds: [] },
      {
        path: "docs/api/orders.md",
        held: true,
        holds: [
          {
            kind: "task",
            holder: "beta",
            holderAgentId: beta.agentId,
            taskId: task.id,
            taskTitle: "Write docs",
            globs: ["docs/api/**"],
            mode: "exclusive",
            expiresAt: new Date(clock.at().getTime() + 300_000),
            matched: "docs/api/**",
          },
        ],
      },
      { path: "README.md", held: false, holds: [] },
    ]);
    // The holder itself sees its own files as free.
    const own = await checkPaths(db, beta, { paths: ["src/x.ts"] });
    expect(own.paths[0]?.held).toBe(false);
  });

  it("reads file names with brackets literally when checking", async () => {
    const { db, alpha, beta } = await setup();
    await reservePaths(db, beta, { globs: ["app/**/page.tsx"] });

    const checked = await checkPaths(db, alpha, {
      paths: ["app/[slug]/page.tsx", "app/[slug]/layout.tsx"],
    });

    expect(checked.paths.map((p) => [p.path, p.held])).toEqual([
      ["app/[slug]/page.tsx", true],
      ["app/[slug]/layout.tsx", false],
    ]);
  });

  it("lets a fellow shared holder edit, but no one else", async () => {
    const { db, alpha, beta } = await setup();
    const third = (await makeAgent(db, alpha.projectId, "gamma")).actor;
    await reservePaths(db, beta, { globs: ["docs/**"], mode: "shared" });
    await reservePaths(db, alpha, { globs: ["docs/**"], mode: "shared" });

    const fellow = await checkPaths(db, alpha, { paths: ["docs/a.md"] });
    const outsider = await checkPaths(db, third, { paths: ["docs/a.md"] });

    expect(fellow.paths[0]?.held).toBe(false);
    expect(outsider.paths[0]?.holds.map((h) => h.holder).sort()).toEqual([
      "alpha",
      "beta",
    ]);
  });

  it("never grants overlapping exclusive reservations to two agents at once", async () => {
    const { db, alpha, beta } = await setup();
    const attempts = Array.from({ length: 24 }, (_, i) => ({
      actor: i % 2 === 0 ? alpha : beta,
      // Different globs with overlapping roots: "src" contains the rest.
      globs: [["src/**"], ["src/api/**"], ["src/api/orders.ts"]][i % 3],
    }));

    const results = await Promise.all(
      attempts.map(({ actor, globs }) =>
        reservePaths(db, actor, { globs }).then((result) => ({
          agent: actor.agentName,
          granted: result.granted,
        })),
      ),
    );

    const winners = new Set(
      results.filter((r) => r.granted).map((r) => r.agent),
    );
    expect(winners.size).toBe(1);
    const [loser] = [alpha, beta].filter((a) => !winners.has(a.agentName));
    expect((await listMyReservations(db, loser)).reservations).toEqual([]);
  });

  it("lists a project's live reservations for console viewers", async () => {
    const { db, project, alpha, beta } = await setup();
    const viewer = await makeUser(db, "viewer");
    const outsiderProject = await makeProject(db);
    await reservePaths(db, alpha, { globs: ["src/**"], reason: "rename" });
    await reservePaths(db, beta, { globs: ["docs/**"], mode: "shared" });
    const gone = await reservePaths(db, beta, { globs: ["lib/**"] });
    await releaseReservation(db, beta, { reservationId: gone.reservation?.id });

    const caller = createCaller({ db, actor: viewer.actor });
    const listed = await caller.reservations.list({ project: project.slug });

    expect(
      listed.map((r) => [r.agent.name, r.globs, r.mode, r.reason]),
    ).toEqual([
      ["alpha", ["src/**"], "exclusive", "rename"],
      ["beta", ["docs/**"], "shared", ""],
    ]);
    expect(
      await listProjectReservations(db, alpha, { project: project.slug }),
    ).toHaveLength(2);
    // Another project's agent sees nothing of it.
    const stranger = (await makeAgent(db, outsiderProject.id)).actor;
    expect(
      (
        await rejection(
          listProjectReservations(db, stranger, { project: project.slug }),
        )
      ).status,
    ).toBe(404);
    const signedOut = createCaller({ db, actor: null });
    expect(
      (await trpcFailure(signedOut.reservations.list({ project: "x" }))).code,
    ).toBe("UNAUTHORIZED");
  });
});
