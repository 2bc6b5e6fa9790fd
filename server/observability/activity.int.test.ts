import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, asc, eq } from "drizzle-orm";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { agentSessions, events } from "@/db/schema";
import { POST as claimRoute } from "@/app/api/agent/v1/tasks/claim/route";
import { indexDocuments } from "@/server/context/indexer";
import { pauseProject } from "@/server/guardrails/kill-switch";
import type { Actor } from "@/server/identity/actor";
import {
  claimTasks,
  completeTask,
  createGoal,
  createTask,
  failTask,
} from "@/server/orchestration";
import { answerQuestion } from "@/server/context/answer";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject } from "@/tests/fixtures";
import { flushActivity } from "./activity";
import { ingestEvents } from "./ingest";

// What an agent does through Flotilla (claims, completions, failures,
// context lookups, refusals) lands in its session trace beside what it
// reports: in the session it names, else its active one, else a session
// of the day for API calls.

const cli: Actor = { kind: "cli", label: "cli:test" };

describe.each(testKinds)("agent activity in session traces on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
  });
  afterAll(async () => handle.close());

  async function setup() {
    const db = handle.db;
    const project = await makeProject(db);
    const agent = await makeAgent(db, project.id, "builder");
    const goal = await createGoal(db, cli, {
      project: project.slug,
      title: "Ship it",
    });
    const task = (title: string) =>
      createTask(db, cli, { goalId: goal.id, title });

    return { db, project, agent, task };
  }

  async function trace(projectId: string, externalId: string) {
    const [session] = await handle.db
      .select()
      .from(agentSessions)
      .where(
        and(
          eq(agentSessions.projectId, projectId),
          eq(agentSessions.externalId, externalId),
        ),
      );
    if (!session) return { session: null, rows: [] };
    const rows = await handle.db
      .select()
      .from(events)
      .where(eq(events.sessionId, session.id))
      .orderBy(asc(events.chainSeq));

    return { session, rows };
  }

  it("records claims and outcomes in the session the agent names", async () => {
    const { db, project, agent, task } = await setup();
    const first = await task("Write the parser");
    const second = await task("Write the printer");
    const actor = { ...agent.actor, sessionHint: "cc-session-1" };

    const claimed = await claimTasks(db, actor, { count: 2 });
    expect(claimed.claimed).toHaveLength(2);
    await completeTask(db, actor, { taskId: first.id });
    await failTask(db, actor, { taskId: second.id, reason: "tests hang" });
    await flushActivity();

    const { session, rows } = await trace(project.id, "cc-session-1");
    expect(session?.agentId).toBe(agent.agent.id);
    expect(rows.map((r) => [r.type, r.name, r.status, r.taskId])).toEqual([
      ["claim", "task.claimed", "ok", first.id],
      ["claim", "task.claimed", "ok", second.id],
      ["claim", "task.completed", "ok", first.id],
      ["claim", "task.failed", "error", second.id],
    ]);
    expect(rows[3].output).toEqual({ reason: "tests hang" });
    expect(rows.every((r) => r.goalId === first.goalId)).toBe(true);
    expect(session?.errorCount).toBe(1);
    // The completed task is work landed for the session's grade; the
    // failed one counts against its reliability.
    expect(session?.landedCount).toBe(1);
    expect(session?.gradeReasons).toContain(
      "Throughput good: 1 piece of work landed in 1 attempt",
    );
  });

  it("uses the agent's active session, else a session of the day", async () => {
    const { db, project, agent, task } = await setup();
    await task("Only task");
    await task("Second task");

    // Nothing reported yet: the claim goes to the day's API session.
    await claimTasks(db, agent.actor, {});
    await flushActivity();
    const day = new Date().toISOString().slice(0, 10);
    const api = await trace(project.id, `flotilla-api-${day}`);
    expect(api.session?.title).toBe(`builder: Flotilla API calls on ${day}`);
    expect(api.rows.map((r) => r.name)).toEqual(["task.claimed"]);

    // Once the agent reports in a session, its next claim lands there.
    await ingestEvents(db, agent.actor, {
      events: [
        {
          id: "reported-1",
          sessionId: "claude-1",
          type: "message",
          name: "user prompt",
          time: new Date().toISOString(),
        },
      ],
    });
    await claimTasks(db, agent.actor, {});
    await flushActivity();
    const active = await trace(project.id, "claude-1");
    expect(active.rows.map((r) => r.name)).toEqual([
      "user prompt",
      "task.claimed",
    ]);
  });

  it("never puts an action in a session that began after it", async () => {
    const { db, project, agent, task } = await setup();
    await task("Early task");
    // The claim waits in the queue while a new session starts.
    await claimTasks(db, agent.actor, {});
    await ingestEvents(db, agent.actor, {
      events: [
        {
          id: "later-1",
          sessionId: "later",
          type: "message",
          name: "user prompt",
          time: new Date(Date.now() + 1000).toISOString(),
        },
      ],
    });
    await flushActivity();

    const later = await trace(project.id, "later");
    expect(later.rows.map((r) => r.name)).toEqual(["user prompt"]);
    const day = new Date().toISOString().slice(0, 10);
    const api = await trace(project.id, `flotilla-api-${day}`);
    expect(api.rows.map((r) => r.name)).toEqual(["task.claimed"]);
  });

  it("records context lookups with what they served", async () => {
    const { db, project, agent } = await setup();
    await indexDocuments(db, cli, {
      project: project.slug,
      source: "docs",
      files: [
        {
          path: "guide/caching.md",
          content:
            "# Caching\n\n## Revalidation\n\nCall revalidateTag with the tag " +
            "to purge cached fetches that carry it.\n",
        },
      ],
    });
    const actor = { ...agent.actor, sessionHint: "lookups" };
    await answerQuestion(db, actor, {
      project: project.slug,
      q: "how do I purge cached fetches by tag with revalidateTag",
    });
    await answerQuestion(db, actor, {
      project: project.slug,
      q: "kubernetes helm chart ingress annotations",
    });
    await flushActivity();

    const { rows } = await trace(project.id, "lookups");
    expect(rows.map((r) => [r.type, r.name])).toEqual([
      ["context_lookup", "context.answered"],
      ["context_lookup", "context.no_answer"],
    ]);
    expect(rows[0].output).toMatchObject({
      path: "guide/caching.md",
      heading: "Caching > Revalidation",
    });
  });

  it("records a refused API call as a guardrail decision", async () => {
    const { db, project, agent, task } = await setup();
    await task("Blocked work");
    await pauseProject(db, cli, { project: project.slug, reason: "freeze" });

    const response = await claimRoute(
      new Request("http://test/api/agent/v1/tasks/claim", {
        method: "POST",
        headers: {
          authorization: `Bearer ${agent.secret}`,
          "content-type": "application/json",
          "x-flotilla-session": "paused-session",
        },
        body: "{}",
      }),
      { params: Promise.resolve({}) },
    );
    expect(response.status).toBe(403);
    await flushActivity();

    const { rows } = await trace(project.id, "paused-session");
    expect(rows.map((r) => [r.type, r.status])).toEqual([
      ["guardrail_decision", "denied"],
    ]);
    expect(rows[0].name).toBe(
      "guardrail.refused POST /api/agent/v1/tasks/claim",
    );
    expect(rows[0].output).toMatchObject({ rule: "project.paused" });
  });
});
