import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import type { DatabaseHandle } from "@/db/client";
import { agentSessions } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { DomainError } from "@/server/errors";
import { openTestDatabase, testKinds } from "@/tests/db";
import { receiveClaudeCodeHook } from "./hooks";
import { ingestEvents, type AgentActor } from "./ingest";
import { listSessions, type SessionFilters } from "./sessions";
import { makeAgent, makePerson, makeProject, makeTask } from "./testing";

// The sessions list: each filter narrows it to the sessions it names,
// pages follow one another without gaps or repeats, and each row carries
// the grade ingest keeps.

function event(
  sessionId: string,
  id: string,
  time: string,
  extra: Record<string, unknown> = {},
) {
  return {
    id,
    sessionId,
    type: "tool_call",
    name: "Bash",
    toolName: "Bash",
    time: `2026-12-01T${time}:00.000Z`,
    ...extra,
  };
}

describe.each(testKinds)("the sessions list on %s", (kind) => {
  let handle: DatabaseHandle;
  let person: Actor;
  let alpha: AgentActor;
  let beta: AgentActor;
  let goalOne: string;
  let taskTwo: string;
  const slug = "session-list";

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    const project = await makeProject(handle.db, slug);
    alpha = (await makeAgent(handle.db, project.id, "alpha")).actor;
    beta = (await makeAgent(handle.db, project.id, "beta")).actor;
    person = (await makePerson(handle.db, "lead@example.com", "admin")).actor;
    const one = await makeTask(handle.db, project.id, "one");
    const two = await makeTask(handle.db, project.id, "two");
    goalOne = one.goal.id;
    taskTwo = two.task.id;

    await ingestEvents(handle.db, alpha, {
      events: [
        event("a-clean", "c1", "10:00", {
          type: "llm_call",
          name: "model",
          toolName: undefined,
          costUsd: 0.5,
          taskId: one.task.id,
        }),
        event("a-clean", "c2", "10:01", {
          type: "file_change",
          name: "Write",
          toolName: "Write",
          input: { file_path: "src/app.ts", content: "x" },
          taskId: one.task.id,
        }),
        event("a-clean", "c3", "10:02", { input: { command: "npm test" } }),
        event("a-risky", "r1", "11:00", {
          input: { command: "git push --force origin main" },
          costUsd: 2,
        }),
      ],
    });
    await ingestEvents(handle.db, beta, {
      events: [
        event("b-critical", "k1", "12:00", {
          input: { command: "rm -rf /" },
          costUsd: 5,
          taskId: two.task.id,
        }),
        event("b-plain", "p1", "09:00", { type: "message", name: "hello" }),
        // Sessions whose last events share one moment: the cursor must
        // still tell them apart.
        ...Array.from({ length: 9 }, (_, i) =>
          event(`tie-${i}`, `t${i}`, "08:00", { type: "message" }),
        ),
      ],
    });
    // A session from before grades were kept.
    await handle.db
      .update(agentSessions)
      .set({ grade: null, gradeReasons: null })
      .where(eq(agentSessions.externalId, "tie-0"));
  });
  afterAll(async () => handle.close());

  async function listed(filters: SessionFilters = {}) {
    const page = await listSessions(handle.db, person, {
      project: slug,
      ...filters,
    });

    return page.sessions.map((s) => s.externalId);
  }

  async function refusal(filters: Record<string, unknown>) {
    try {
      await listSessions(handle.db, person, { project: slug, ...filters });
    } catch (error) {
      if (error instanceof DomainError) {
        return { code: error.code, details: error.details };
      }
      throw error;
    }
    throw new Error("expected a refusal");
  }

  const ties = Array.from({ length: 9 }, (_, i) => `tie-${i}`);

  it("lists every session, latest activity first", async () => {
    const all = await listed();
    expect(all.slice(0, 4)).toEqual([
      "b-critical",
      "a-risky",
      "a-clean",
      "b-plain",
    ]);
    expect(all.slice(4).sort()).toEqual(ties);
  });

  it.each<[string, SessionFilters, string[]]>([
    ["agent by name", { agent: "alpha" }, ["a-risky", "a-clean"]],
    ["goal", {}, ["a-clean"]],
    ["task", {}, ["b-critical"]],
    ["any flag", { flagged: true }, ["b-critical", "a-risky"]],
    ["a rule", { flagRule: "shell.force-push" }, ["a-risky"]],
    ["min severity high", { minSeverity: "high" }, ["b-critical", "a-risky"]],
    ["min severity critical", { minSeverity: "critical" }, ["b-critical"]],
    ["grade A", { grade: "A" }, ["a-clean"]],
    ["grade F", { grade: "F" }, ["b-critical"]],
    ["not graded", { grade: "ungraded" }, ["tie-0"]],
    ["min cost", { minCost: 1 }, ["b-critical", "a-risky"]],
    ["cost range", { minCost: 1, maxCost: 3 }, ["a-risky"]],
    [
      "time range",
      { from: "2026-12-01T10:30:00Z", to: "2026-12-01T11:30:00Z" },
      ["a-risky"],
    ],
    ["from", { from: "2026-12-01T11:30:00Z" }, ["b-critical"]],
    [
      "several filters together",
      { agent: "beta", minCost: 1, grade: "F" },
      ["b-critical"],
    ],
  ])("narrows by %s", async (name, filters, expected) => {
    const withIds = {
      ...filters,
      ...(name === "goal" ? { goal: goalOne } : {}),
      ...(name === "task" ? { task: taskTwo } : {}),
    };
    expect(await listed(withIds)).toEqual(expected);
  });

  it("narrows by agent id as by name, and to nothing for a stranger", async () => {
    expect(await listed({ agent: alpha.agentId })).toEqual([
      "a-risky",
      "a-clean",
    ]);
    expect(await listed({ agent: "nobody" })).toEqual([]);
  });

  it("keeps before `to` only sessions that started before it", async () => {
    const early = await listed({ to: "2026-12-01T09:30:00Z" });
    expect(early.sort()).toEqual(["b-plain", ...ties].sort());
  });

  it("pages with a cursor, without gaps or repeats", async () => {
    const all = await listed();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof listSessions>> = await listSessions(
        handle.db,
        person,
        {
          project: slug,
          limit: 3,
          cursor,
        },
      );
      expect(page.sessions.length).toBeLessThanOrEqual(3);
      seen.push(...page.sessions.map((s) => s.externalId));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor && pages < 20);
    expect(seen).toEqual(all);
    expect(new Set(seen).size).toBe(all.length);
    expect(pages).toBe(Math.ceil(all.length / 3));
  });

  it("pages within a filter", async () => {
    const first = await listSessions(handle.db, person, {
      project: slug,
      agent: "alpha",
      limit: 1,
    });
    const second = await listSessions(handle.db, person, {
      project: slug,
      agent: "alpha",
      limit: 1,
      cursor: first.nextCursor,
    });
    expect(
      [...first.sessions, ...second.sessions].map((s) => s.externalId),
    ).toEqual(["a-risky", "a-clean"]);
    expect(second.nextCursor).toBeNull();
  });

  it("carries the grade, its reasons and flags by severity", async () => {
    const page = await listSessions(handle.db, person, { project: slug });
    const byId = new Map(page.sessions.map((s) => [s.externalId, s]));
    expect(byId.get("a-clean")).toMatchObject({
      grade: "A",
      gradeReasons: [
        "Throughput good: 1 piece of work landed in 3 attempts",
        "Reliability good: 0 of 3 attempts failed (0%)",
        "Safety good: no high or critical flags",
      ],
    });
    expect(byId.get("b-critical")).toMatchObject({
      grade: "F",
      flagsBySeverity: { low: 0, medium: 0, high: 0, critical: 1 },
    });
    expect(byId.get("a-risky")?.flagsBySeverity).toEqual({
      low: 0,
      medium: 0,
      high: 1,
      critical: 0,
    });
    expect(byId.get("tie-0")).toMatchObject({ grade: null, gradeReasons: [] });
  });

  it("shows a session's new totals on the next read", async () => {
    await ingestEvents(handle.db, alpha, {
      events: [
        event("a-clean", "c4", "12:30", { costUsd: 1, status: "error" }),
      ],
    });
    const [first] = (await listSessions(handle.db, person, { project: slug }))
      .sessions;
    expect(first).toMatchObject({
      externalId: "a-clean",
      eventCount: 4,
      errorCount: 1,
      costUsd: 1.5,
    });
    expect(first.gradeReasons[1]).toBe(
      "Reliability fair: 1 of 4 attempts failed (25%)",
    );
  });

  it("tells a session with no priced event from one that cost $0", async () => {
    await ingestEvents(handle.db, beta, {
      events: [event("b-free", "f1", "07:00", { costUsd: 0 })],
    });
    const { sessions } = await listSessions(handle.db, person, {
      project: slug,
      to: "2026-12-01T09:30:00Z",
    });
    const byId = new Map(sessions.map((s) => [s.externalId, s]));

    // b-plain has only a message: nothing priced, so no cost to show.
    expect(byId.get("b-plain")).toMatchObject({ priced: false, costUsd: 0 });
    // b-free reported a cost of zero: a real $0.00.
    expect(byId.get("b-free")).toMatchObject({ priced: true, costUsd: 0 });
    const risky = await listSessions(handle.db, person, {
      project: slug,
      flagRule: "shell.force-push",
    });
    expect(risky.sessions[0]).toMatchObject({ priced: true, costUsd: 2 });
  });

  it.each<[Record<string, unknown>, string]>([
    [{ minCost: 5, maxCost: 1 }, "maxCost"],
    [{ minCost: -1 }, "minCost"],
    [{ minCost: "lots" }, "minCost"],
    [{ from: "2026-12-02T00:00:00Z", to: "2026-12-01T00:00:00Z" }, "to"],
    [{ from: "yesterday" }, "from"],
    [{ grade: "E" }, "grade"],
    [{ minSeverity: "urgent" }, "minSeverity"],
    [{ goal: "not-a-goal" }, "goal"],
    [{ cursor: "bm9wZQ" }, "cursor"],
  ])("refuses %o with a message on %s", async (filters, path) => {
    const refused = await refusal(filters);
    expect(refused.code).toBe("invalid_input");
    expect(
      (refused.details as { path: string }[]).map((issue) => issue.path),
    ).toContain(path);
  });
});

describe.each(testKinds)(
  "session grades from Claude Code hooks on %s",
  (kind) => {
    let handle: DatabaseHandle;
    let agent: AgentActor;
    let person: Actor;
    const slug = "grade-hooks";

    beforeAll(async () => {
      handle = await openTestDatabase(kind);
      const project = await makeProject(handle.db, slug);
      agent = (await makeAgent(handle.db, project.id, "claude")).actor;
      person = (await makePerson(handle.db, "grader@example.com", "admin"))
        .actor;
    });
    afterAll(async () => handle.close());

    async function run(sessionId: string, bashFails: boolean) {
      const base = { session_id: sessionId, cwd: "/work/app" };
      const bodies = [
        {
          ...base,
          hook_event_name: "PostToolUse",
          tool_name: "Edit",
          tool_use_id: "edit-1",
          tool_input: { file_path: "/work/app/src/a.ts", old_string: "a" },
          tool_response: { filePath: "/work/app/src/a.ts" },
        },
        ...[1, 2, 3].map((n) =>
          bashFails && n < 3
            ? {
                ...base,
                hook_event_name: "PostToolUseFailure",
                tool_name: "Bash",
                tool_use_id: `bash-${n}`,
                tool_input: { command: "npm test" },
                error: "Command failed with exit code 1",
              }
            : {
                ...base,
                hook_event_name: "PostToolUse",
                tool_name: "Bash",
                tool_use_id: `bash-${n}`,
                tool_input: { command: "npm test" },
                tool_response: { stdout: "ok", exitCode: 0 },
              },
        ),
      ];
      for (const body of bodies) {
        await receiveClaudeCodeHook(handle.db, agent, body);
      }
      const [session] = await handle.db
        .select()
        .from(agentSessions)
        .where(
          and(
            eq(agentSessions.agentId, agent.agentId),
            eq(agentSessions.externalId, sessionId),
          ),
        );

      return session;
    }

    it("rates a session with failed tool calls worse on reliability", async () => {
      const steady = await run("steady", false);
      const failing = await run("failing", true);
      expect(steady).toMatchObject({ attemptCount: 4, landedCount: 1 });
      expect(failing).toMatchObject({
        attemptCount: 4,
        landedCount: 1,
        errorCount: 2,
      });
      expect(steady.gradeReasons?.[1]).toBe(
        "Reliability good: 0 of 4 attempts failed (0%)",
      );
      expect(failing.gradeReasons?.[1]).toBe(
        "Reliability poor: 2 of 4 attempts failed (50%)",
      );
      expect(steady.grade).toBe("A");
      expect(failing.grade).toBe("C");

      const page = await listSessions(handle.db, person, {
        project: slug,
        grade: "C",
      });
      expect(page.sessions.map((s) => s.externalId)).toEqual(["failing"]);
    });
  },
);
