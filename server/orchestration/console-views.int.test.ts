import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { agentSessions, events, tasks } from "@/db/schema";
import { createCaller } from "@/server/api/root";
import { newId, now } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { trpcFailure } from "@/tests/failures";
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import { taskActivity } from "@/server/observability/task-activity";
import { goalGraph } from "./goal-graph";
import { insertTask } from "./tasks";
import { ensureEventPartitions } from "@/server/observability/partitions";

// The console's read views of orchestration: board filters, a goal's
// dependency graph, and what a task has cost.

describe.each(testKinds)("console views on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
  });
  afterAll(async () => handle.close());

  async function setup() {
    const db = handle.db;
    const project = await makeProject(db);
    const { actor } = await makeUser(db, "operator");
    const operator = createCaller({ db, actor });
    const builder = await makeAgent(db, project.id, "builder");
    const reviewer = await makeAgent(db, project.id, "reviewer");
    const goal = async (title: string) =>
      operator.orchestration.goals.create({ project: project.slug, title });
    const task = async (
      goalId: string,
      title: string,
      options: { capabilities?: string[]; dependsOn?: string[] } = {},
    ) => {
      const dependencies = await db
        .select({ id: tasks.id, title: tasks.title, status: tasks.status })
        .from(tasks)
        .where(eq(tasks.goalId, goalId));
      const wanted = dependencies
        .filter((d) => options.dependsOn?.includes(d.id))
        .map((d) => ({ ...d, status: d.status as "ready" }));

      return insertTask(
        db,
        actor,
        { id: goalId, projectId: project.id },
        {
          title,
          description: "",
          priority: 0,
          scope: [],
          capabilities: options.capabilities,
        },
        wanted,
      );
    };
    const hold = (taskId: string, agentId: string) =>
      db
        .update(tasks)
        .set({ status: "in_progress", holderAgentId: agentId })
        .where(eq(tasks.id, taskId));

    return { db, project, operator, builder, reviewer, goal, task, hold };
  }

  it("filters the board by goal, holder and capability together", async () => {
    const { project, operator, builder, reviewer, goal, task, hold } =
      await setup();
    const api = await goal("API");
    const docs = await goal("Docs");
    const schema = await task(api.id, "Schema", {
      capabilities: ["sql", "typescript"],
    });
    const routes = await task(api.id, "Routes", {
      capabilities: ["typescript"],
    });
    const guide = await task(docs.id, "Guide", { capabilities: ["writing"] });
    await hold(schema, builder.agent.id);
    await hold(routes, reviewer.agent.id);
    await hold(guide, builder.agent.id);
    const titles = async (filters: Record<string, string>) =>
      (
        await operator.orchestration.tasks.list({
          project: project.slug,
          ...filters,
        })
      )
        .map((t) => t.title)
        .sort();

    expect(await titles({})).toEqual(["Guide", "Routes", "Schema"]);
    expect(await titles({ goalId: api.id })).toEqual(["Routes", "Schema"]);
    expect(await titles({ holderAgentId: builder.agent.id })).toEqual([
      "Guide",
      "Schema",
    ]);
    expect(await titles({ capability: "typescript" })).toEqual([
      "Routes",
      "Schema",
    ]);
    expect(
      await titles({
        goalId: api.id,
        holderAgentId: builder.agent.id,
        capability: "typescript",
      }),
    ).toEqual(["Schema"]);
    expect(await titles({ capability: "rust" })).toEqual([]);

    const bad = await trpcFailure(
      operator.orchestration.tasks.list({
        project: project.slug,
        holderAgentId: "builder",
      }),
    );
    expect(bad.code).toBe("BAD_REQUEST");
    expect(bad.details).toEqual([
      { path: "holderAgentId", message: "Must be a UUID" },
    ]);
  });

  it("lays a goal's tasks out by their longest dependency chain", async () => {
    const { operator, goal, task } = await setup();
    const g = await goal("Release");
    const a = await task(g.id, "A");
    const b = await task(g.id, "B", { dependsOn: [a] });
    const c = await task(g.id, "C");
    const d = await task(g.id, "D", { dependsOn: [b, c] });
    const graph = await operator.orchestration.goals.graph({ goalId: g.id });
    const layer = Object.fromEntries(
      graph.nodes.map((n) => [n.title, n.layer]),
    );
    expect(layer).toEqual({ A: 0, C: 0, B: 1, D: 2 });
    expect(graph.layerCount).toBe(3);
    expect(graph.edges).toHaveLength(3);
    expect(graph.edges).toContainEqual({ from: b, to: d });
    expect(graph.nodes.find((n) => n.title === "D")?.status).toBe("draft");
  });

  it("sums the spend attributed to a task and lists its sessions", async () => {
    const { db, project, operator, builder, goal, task } = await setup();
    const g = await goal("Costs");
    const taskId = await task(g.id, "Priced");
    const other = await task(g.id, "Other");
    const at = now();
    const sessionId = newId();
    await db.insert(agentSessions).values({
      id: sessionId,
      projectId: project.id,
      agentId: builder.agent.id,
      externalId: "session-1",
      source: "native",
      startedAt: at,
      lastEventAt: at,
    });
    const event = (forTask: string, costUsd: string | null) => ({
      id: newId(),
      projectId: project.id,
      sessionId,
      agentId: builder.agent.id,
      taskId: forTask,
      goalId: g.id,
      eventKey: newId(),
      source: "native",
      type: "llm_call",
      name: "model call",
      occurredAt: at,
      costUsd,
      costSource: costUsd === null ? "unpriced" : "computed",
      receivedAt: at,
    });
    await ensureEventPartitions(db, [at]);
    await db
      .insert(events)
      .values([
        event(taskId, "0.25000000"),
        event(taskId, "0.50000000"),
        event(taskId, null),
        event(other, "9.00000000"),
      ]);

    const activity = await operator.orchestration.tasks.activity({ taskId });
    expect(activity).toMatchObject({
      costUsd: 0.75,
      eventCount: 3,
      unpricedCount: 1,
      sessions: [
        {
          id: sessionId,
          agentName: "builder",
          eventCount: 3,
          costUsd: 0.75,
        },
      ],
    });
    const idle = await operator.orchestration.tasks.activity({
      taskId: await task(g.id, "Untouched"),
    });
    expect(idle).toMatchObject({ costUsd: 0, eventCount: 0, sessions: [] });
  });

  it("says why a waiting task is not being claimed", async () => {
    const { operator, goal, task, hold, builder } = await setup();
    const g = await goal("Explained");
    const rusty = await task(g.id, "Port to Rust", { capabilities: ["rust"] });
    const after = await task(g.id, "After it", { dependsOn: [rusty] });
    const free = await task(g.id, "Anyone");
    const held = await task(g.id, "Held");
    await hold(held, builder.agent.id);
    const why = (taskId: string) =>
      operator.orchestration.tasks.whyNotClaimed({ taskId });

    expect(await why(rusty)).toMatchObject({
      waiting: true,
      skip: { reason: "capability", message: expect.stringContaining("rust") },
    });
    expect(await why(after)).toMatchObject({
      waiting: true,
      skip: { reason: "dependencies" },
    });
    expect(await why(free)).toMatchObject({
      waiting: true,
      skip: { reason: "none" },
    });
    expect(await why(held)).toEqual({ waiting: false, skip: null });
  });

  it("hides another project's graph and activity from its agents", async () => {
    const { db, goal, task } = await setup();
    const g = await goal("Private");
    const taskId = await task(g.id, "Secret");
    const stranger = await makeAgent(db, (await makeProject(db)).id);
    await expect(
      taskActivity(db, stranger.actor, { taskId }),
    ).rejects.toMatchObject({ code: "not_found" });
    await expect(
      goalGraph(db, stranger.actor, { goalId: g.id }),
    ).rejects.toMatchObject({ code: "not_found" });
  });
});
