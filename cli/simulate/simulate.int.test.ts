import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { FlotillaApiError, FlotillaClient } from "@/client";
import { startLoopbackServer, type LoopbackServer } from "@/client/testing";
import { indexDocuments } from "@/server/context";
import { addRule } from "@/server/guardrails/rules";
import { listAgents } from "@/server/identity/agents";
import { listSessions, getSession } from "@/server/observability/sessions";
import { projectSpend } from "@/server/observability/spend";
import { listGoals, listPlans, listTasks } from "@/server/orchestration";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeProject, makeUser } from "@/tests/fixtures";
import { runSimulation } from "./fleet";
import type { SimulationSummary } from "./summary";

// `flotilla simulate` against the real route handlers on a loopback port:
// after a few seconds, the console shows what a new user should see.

const migrations = `# Database

## Migrations

Database migrations are kept in src/db/migrations and run with npm run
migrate before the server starts.
`;

describe.each(testKinds)("flotilla simulate on %s", (kind) => {
  let handle: DatabaseHandle;
  let server: LoopbackServer;
  let admin: Awaited<ReturnType<typeof makeUser>>;
  let slug: string;
  let summary: SimulationSummary;
  const lines: string[] = [];

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    const { db } = handle;
    slug = (await makeProject(db)).slug;
    admin = await makeUser(db, "admin");
    await addRule(db, admin.actor, {
      project: slug,
      scope: "project",
      kind: "command",
      tool: "Bash",
      pattern: "git push --force",
      decision: "deny",
      reason: "never rewrite shared history",
    });
    await indexDocuments(db, admin.actor, {
      project: slug,
      files: [{ path: "database.md", content: migrations }],
    });
    server = await startLoopbackServer();
    summary = await runSimulation({
      url: server.url,
      token: admin.secret,
      project: slug,
      agents: 3,
      durationMs: 8_000,
      seed: 7,
      paceMs: 40,
      log: (line) => lines.push(line),
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await handle?.close();
  });

  it("creates simulated agents that hold nothing once it ends", async () => {
    const agents = await listAgents(handle.db, admin.actor, { project: slug });
    expect(agents.map((agent) => agent.name)).toEqual([
      "sim-1",
      "sim-2",
      "sim-3",
    ]);
    expect(agents.every((agent) => agent.heldTasks.length === 0)).toBe(true);
    expect(summary.agents).toEqual(["sim-1", "sim-2", "sim-3"]);
  });

  it("leaves one plan waiting for approval and makes work flow in the other goal", async () => {
    const goals = await listGoals(handle.db, admin.actor, { project: slug });
    expect(goals).toHaveLength(2);
    expect(goals.every((goal) => goal.title.startsWith("Simulation:"))).toBe(
      true,
    );
    const review = goals.find((goal) => goal.requiresPlanApproval);
    const flow = goals.find((goal) => !goal.requiresPlanApproval);
    const waiting = await listPlans(handle.db, admin.actor, {
      goalId: review?.id,
    });
    expect(waiting.map((plan) => plan.status)).toEqual(["submitted"]);
    expect(waiting[0].note).toMatch(/^Simulation:/);

    const done = await listTasks(handle.db, admin.actor, {
      project: slug,
      goalId: flow?.id,
      status: "done",
    });
    expect(done.length).toBeGreaterThan(0);
    expect(summary.tasks.claimed).toBeGreaterThanOrEqual(
      summary.tasks.completed,
    );
    expect(summary.tasks.completed).toBe(
      done.filter((task) => task.goalId === flow?.id).length,
    );
  });

  it("records priced, labelled sessions for the simulated agents", async () => {
    const spend = await projectSpend(handle.db, admin.actor, {
      project: slug,
      groupBy: "agent",
    });
    const priced = spend.rows.filter((row) => (row.costUsd ?? 0) > 0);
    expect(priced.length).toBeGreaterThan(0);
    expect(priced.every((row) => row.agent?.startsWith("sim-"))).toBe(true);

    const { sessions } = await listSessions(handle.db, admin.actor, {
      project: slug,
    });
    expect(sessions.length).toBeGreaterThan(0);
    // Sessions the simulator reported say so in their titles; claims made
    // between them land in a session Flotilla keeps for the agent's API
    // calls, named after the (simulated) agent.
    const reported = sessions.filter((s) => s.source !== "flotilla");
    const titled = reported.filter((session) => session.title !== null);
    expect(titled.length).toBeGreaterThan(0);
    expect(titled.every((s) => s.title?.startsWith("Simulation:"))).toBe(true);
    expect(
      sessions
        .filter((s) => s.source === "flotilla")
        .every((s) => s.title?.startsWith("sim-")),
    ).toBe(true);
    expect(sessions.some((session) => session.costUsd > 0)).toBe(true);

    const detail = await getSession(handle.db, admin.actor, {
      project: slug,
      sessionId: titled[0].id,
    });
    expect(detail.events.length).toBeGreaterThan(0);
    // What the simulator reported is labelled; what Flotilla recorded of
    // the agent's own calls (claims, lookups) is not its to label.
    expect(
      detail.events
        .filter((event) => event.source !== "flotilla")
        .every((event) => event.attributes?.["flotilla.simulation"]),
    ).toBe(true);
  });

  it("meets the deny rule and says so", () => {
    expect(summary.guardrails.denied).toBeGreaterThan(0);
    expect(lines.some((line) => line.includes("guardrail denied Bash"))).toBe(
      true,
    );
    expect(lines.every((line) => line.startsWith("[sim "))).toBe(true);
  });

  it("suffixes taken names and releases held tasks when stopped early", async () => {
    const stop = new AbortController();
    const started = Date.now();
    const running = runSimulation({
      url: server.url,
      token: admin.secret,
      project: slug,
      agents: 1,
      durationMs: 60_000,
      seed: 7,
      paceMs: 200,
      signal: stop.signal,
    });
    setTimeout(() => stop.abort(), 1_500);
    const second = await running;

    expect(Date.now() - started).toBeLessThan(20_000);
    expect(second.interrupted).toBe(true);
    expect(second.agents).toEqual(["sim-1-2"]);
    const agents = await listAgents(handle.db, admin.actor, { project: slug });
    const again = agents.find((agent) => agent.name === "sim-1-2");
    expect(again?.heldTasks).toEqual([]);
  });

  it("refuses people who may not create agents, and bad goals", async () => {
    const viewer = await makeUser(handle.db, "viewer");
    const asViewer = new FlotillaClient({
      url: server.url,
      token: viewer.secret,
    });
    const refused = await asViewer
      .createAgent(slug, { name: "sim-x" })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(FlotillaApiError);
    expect((refused as FlotillaApiError).status).toBe(403);

    const asAdmin = new FlotillaClient({
      url: server.url,
      token: admin.secret,
    });
    const taken = await asAdmin
      .createAgent(slug, { name: "sim-1" })
      .catch((error: unknown) => error);
    expect(taken).toMatchObject({
      status: 409,
      details: [
        { path: "name", message: "An agent with this name already exists" },
      ],
    });
    const untitled = await asAdmin
      .createGoal(slug, { title: "" })
      .catch((error: unknown) => error);
    expect(untitled).toMatchObject({ status: 400 });
    expect((untitled as FlotillaApiError).details).toEqual([
      expect.objectContaining({ path: "title" }),
    ]);
  });
});
