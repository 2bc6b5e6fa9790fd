import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import type { Actor } from "@/server/identity/actor";
import { openTestDatabase, testKinds } from "@/tests/db";
import { ingestEvents, type AgentActor } from "./ingest";
import { listSessionEvents } from "./session-events";
import { listSessionUpdates } from "./session-updates";
import { getSession } from "./sessions";
import { makeAgent, makePerson, makeProject } from "./testing";

// A live session page asks for what arrived after the chain position it
// has seen: each new event once, in order of arrival, with its depth in
// the span tree even when its parent came earlier, and the session's
// totals as of the last of them. Nothing for anyone outside the project.

const awsKey = "AKIA" + "QQWERTYUIOPASDFZ";
const start = Date.parse("2026-12-02T09:00:00.000Z");

function at(seconds: number): string {
  return new Date(start + seconds * 1000).toISOString();
}

function event(id: string, second: number, extra = {}) {
  return {
    id,
    sessionId: "live",
    type: "span",
    name: id,
    time: at(second),
    ...extra,
  };
}

describe.each(testKinds)("session updates on %s", (kind) => {
  let handle: DatabaseHandle;
  let agent: AgentActor;
  let stranger: AgentActor;
  let viewer: Actor;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    const project = await makeProject(handle.db, "live");
    const other = await makeProject(handle.db, "live-other");
    agent = (await makeAgent(handle.db, project.id, "runner")).actor;
    stranger = (await makeAgent(handle.db, other.id, "outsider")).actor;
    viewer = (await makePerson(handle.db, "watcher@example.com", "viewer"))
      .actor;

    const first = await ingestEvents(handle.db, agent, {
      events: [
        event("root", 0, { spanId: "s-root", durationMs: 30_000 }),
        event("child", 1, { spanId: "s-child", parentSpanId: "s-root" }),
        event("model-1", 2, {
          type: "llm_call",
          model: "claude-sonnet-4-5-20250929",
          usage: { inputTokens: 1000, outputTokens: 100 },
        }),
      ],
    });
    expect(first.accepted).toBe(3);
    await ingestEvents(handle.db, stranger, {
      events: [{ ...event("theirs", 0), sessionId: "their-session" }],
    });
  }, 60_000);
  afterAll(async () => handle.close());

  const read = (input: Record<string, unknown>) =>
    listSessionUpdates(handle.db, viewer, {
      project: "live",
      sessionId: "live",
      ...input,
    });

  it("returns only what arrived after the position, with fresh totals", async () => {
    const detail = await getSession(handle.db, viewer, {
      project: "live",
      sessionId: "live",
    });
    expect(detail.position).toBe(3);
    expect(detail.session.eventCount).toBe(3);
    expect(detail.tokens).toMatchObject({ input: 1000, output: 100 });

    const quiet = await read({ after: detail.position });
    expect(quiet.events).toEqual([]);
    expect(quiet.position).toBe(3);
    expect(quiet.more).toBe(false);

    // A late event (earlier in time than the others), a grandchild of a
    // span from the first batch, and one that raises a red flag.
    const second = await ingestEvents(handle.db, agent, {
      events: [
        event("grandchild", 20, {
          type: "tool_call",
          toolName: "Bash",
          spanId: "s-grand",
          parentSpanId: "s-child",
          input: { command: `export AWS_ACCESS_KEY_ID=${awsKey}` },
          status: "error",
        }),
        event("late", 0.5, { parentSpanId: "s-root" }),
        event("model-2", 21, {
          type: "llm_call",
          model: "claude-sonnet-4-5-20250929",
          usage: { inputTokens: 500, outputTokens: 50 },
        }),
      ],
    });
    expect(second.accepted).toBe(3);

    const fresh = await read({ after: detail.position });
    expect(fresh.events.map((e) => [e.eventKey, e.chainSeq, e.depth])).toEqual([
      ["grandchild", 4, 2],
      ["late", 5, 1],
      ["model-2", 6, 0],
    ]);
    expect(fresh.position).toBe(6);
    expect(fresh.more).toBe(false);
    expect(fresh.session).toMatchObject({
      eventCount: 6,
      errorCount: 1,
      flagCount: 1,
    });
    expect(fresh.session.costUsd).toBeGreaterThan(detail.session.costUsd);
    expect(fresh.grade?.grade).toBeTruthy();
    expect(fresh.grade?.reasons.length).toBeGreaterThan(0);
    const grandchild = fresh.events[0];
    expect(grandchild.flags.map((f) => f.rule)).toContain(
      "secret.aws-access-key",
    );
    expect(JSON.stringify(fresh.events)).not.toContain(awsKey);

    // Read from the new position, nothing comes twice.
    const after = await read({ after: fresh.position });
    expect(after.events).toEqual([]);
    expect(after.position).toBe(6);
  });

  it("hands a burst over in parts, each event once", async () => {
    const seen: string[] = [];
    let position = 0;
    let answers = 0;
    for (;;) {
      const answer = await read({ after: position, limit: 2 });
      seen.push(...answer.events.map((e) => e.eventKey));
      answers += 1;
      expect(answer.position).toBeGreaterThan(position);
      position = answer.position;
      if (!answer.more || answers > 10) break;
    }

    expect(answers).toBe(3);
    expect(seen).toEqual([
      "root",
      "child",
      "model-1",
      "grandchild",
      "late",
      "model-2",
    ]);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("adds nothing for a replayed event", async () => {
    const before = await read({ after: 0 });
    const replay = await ingestEvents(handle.db, agent, {
      events: [event("root", 0, { spanId: "s-root", durationMs: 30_000 })],
    });
    expect(replay.accepted).toBe(0);

    const now = await read({ after: before.position });
    expect(now.events).toEqual([]);
    expect(now.position).toBe(before.position);
    expect(now.session.eventCount).toBe(before.session.eventCount);
  });

  it("gives timeline pages the position their count stops at", async () => {
    const page = await listSessionEvents(handle.db, viewer, {
      project: "live",
      sessionId: "live",
      types: ["llm_call"],
    });
    expect(page.total).toBe(2);
    expect(page.position).toBe(6);
  });

  it("shows nothing outside the project and refuses a bad position", async () => {
    await expect(
      listSessionUpdates(handle.db, stranger, {
        project: "live",
        sessionId: "live",
        after: 0,
      }),
    ).rejects.toMatchObject({ code: "not_found" });
    // Another project's session, asked for through this project.
    await expect(
      read({ sessionId: "their-session", after: 0 }),
    ).rejects.toMatchObject({ code: "not_found" });
    await expect(
      listSessionUpdates(handle.db, viewer, {
        project: "no-such-project",
        sessionId: "live",
        after: 0,
      }),
    ).rejects.toMatchObject({ code: "not_found" });

    for (const after of [-1, 1.5, "3", undefined]) {
      await expect(read({ after })).rejects.toMatchObject({
        code: "invalid_input",
        details: [{ path: "after" }],
      });
    }
    await expect(read({ after: 0, limit: 501 })).rejects.toMatchObject({
      code: "invalid_input",
      details: [{ path: "limit" }],
    });
  });
});
