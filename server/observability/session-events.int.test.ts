import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import type { Actor } from "@/server/identity/actor";
import { openTestDatabase, testKinds } from "@/tests/db";
import { ingestEvents, type AgentActor } from "./ingest";
import {
  listSessionEvents,
  type SessionEventsInput,
  type TimelineEvent,
} from "./session-events";
import { getSession } from "./sessions";
import { makeAgent, makePerson, makeProject } from "./testing";

// A session's timeline read a page at a time: every event exactly once in
// time order, with its depth in the span tree, secrets masked, filters
// applied in the database, and nothing for anyone outside the project.

const awsKey = "AKIA" + "ZZQWERTYUIOPASDF";
const start = Date.parse("2026-12-01T10:00:00.000Z");
const BIG = 1_100;

function at(seconds: number): string {
  return new Date(start + seconds * 1000).toISOString();
}

// Three events share each second, and they arrive in reverse, so the
// pages must order each second's events by arrival, not by key or id.
function bigSession() {
  const list = Array.from({ length: BIG }, (_, i) => ({
    id: `big-${i}`,
    sessionId: "big",
    type: i % 2 === 0 ? "tool_call" : "llm_call",
    name: `step ${i}`,
    time: at(Math.floor(i / 3)),
    durationMs: 500,
  }));

  return list.reverse();
}

// A session whose events all carry one timestamp: they show in the
// order they arrived, session_start first.
function tiedSession() {
  const types = ["session_start", "message", "llm_call", "tool_call"];

  return Array.from({ length: 7 }, (_, i) => ({
    id: `tied-${i}`,
    sessionId: "tied",
    type: types[Math.min(i, 3)],
    name: `tied ${i}`,
    time: at(30),
  }));
}

function treeSession() {
  const event = (id: string, second: number, extra = {}) => ({
    id,
    sessionId: "tree",
    type: "span",
    name: id,
    time: at(second),
    ...extra,
  });

  return [
    event("root", 0, { spanId: "s-root", durationMs: 60_000 }),
    event("orphan", 1, { spanId: "s-orphan", parentSpanId: "s-gone" }),
    event("child", 2, { spanId: "s-child", parentSpanId: "s-root" }),
    event("loop-a", 3, { spanId: "s-a", parentSpanId: "s-b" }),
    event("loop-b", 4, { spanId: "s-b", parentSpanId: "s-a" }),
    event("self", 5, { spanId: "s-self", parentSpanId: "s-self" }),
    event("log", 6, { parentSpanId: "s-child" }),
    event("grandchild", 7, {
      type: "tool_call",
      toolName: "Bash",
      spanId: "s-grand",
      parentSpanId: "s-child",
      status: "error",
      input: { command: `export AWS_ACCESS_KEY_ID=${awsKey}` },
      output: `key ${awsKey} set`,
    }),
    event("great-grandchild", 8, {
      type: "llm_call",
      model: "claude-sonnet-4-5-20250929",
      usage: { inputTokens: 1200, outputTokens: 300 },
      spanId: "s-great",
      parentSpanId: "s-grand",
    }),
    event("unknown-model", 9, {
      type: "llm_call",
      model: "no-such-model",
      usage: { inputTokens: 10, outputTokens: 10 },
      status: "denied",
    }),
  ];
}

describe.each(testKinds)("session timeline pages on %s", (kind) => {
  let handle: DatabaseHandle;
  let agent: AgentActor;
  let stranger: AgentActor;
  let viewer: Actor;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    const project = await makeProject(handle.db, "timeline");
    const other = await makeProject(handle.db, "elsewhere");
    agent = (await makeAgent(handle.db, project.id, "builder")).actor;
    stranger = (await makeAgent(handle.db, other.id, "outsider")).actor;
    viewer = (await makePerson(handle.db, "reader@example.com", "viewer"))
      .actor;

    const big = bigSession();
    for (let i = 0; i < big.length; i += 500) {
      const result = await ingestEvents(handle.db, agent, {
        events: big.slice(i, i + 500),
      });
      expect(result.accepted).toBe(Math.min(500, big.length - i));
    }
    const tree = await ingestEvents(handle.db, agent, {
      events: treeSession(),
    });
    expect(tree.accepted).toBe(10);
    // Seven events of one moment, sent in two batches.
    const tied = tiedSession();
    for (const batch of [tied.slice(0, 4), tied.slice(4)]) {
      const result = await ingestEvents(handle.db, agent, { events: batch });
      expect(result.accepted).toBe(batch.length);
    }
    // The same span id in another session is not a parent here.
    await ingestEvents(handle.db, agent, {
      events: [
        {
          id: "elsewhere-1",
          sessionId: "tree-2",
          type: "span",
          time: at(0),
          spanId: "s-gone",
        },
      ],
    });
  }, 120_000);
  afterAll(async () => handle.close());

  async function readAll(
    input: Omit<SessionEventsInput, "project" | "cursor">,
  ): Promise<{ events: TimelineEvent[]; pages: number; totals: number[] }> {
    const all: TimelineEvent[] = [];
    const totals: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await listSessionEvents(handle.db, viewer, {
        project: "timeline",
        ...input,
        cursor,
      });
      all.push(...page.events);
      totals.push(page.total);
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor && pages < 100);

    return { events: all, pages, totals };
  }

  it("returns every event once, in time order, across pages", async () => {
    const { events, pages, totals } = await readAll({
      sessionId: "big",
      limit: 500,
    });

    expect(pages).toBe(3);
    expect(totals).toEqual([BIG, BIG, BIG]);
    expect(events).toHaveLength(BIG);
    expect(new Set(events.map((e) => e.id)).size).toBe(BIG);
    for (let i = 1; i < events.length; i++) {
      const before = events[i - 1];
      const after = events[i];
      const order =
        before.occurredAt.getTime() - after.occurredAt.getTime() ||
        (before.chainSeq ?? 0) - (after.chainSeq ?? 0);
      expect(order).toBeLessThan(0);
    }
    // Each second's three events arrived last key first, and show so.
    expect(events.slice(0, 6).map((e) => e.eventKey)).toEqual([
      "big-2",
      "big-1",
      "big-0",
      "big-5",
      "big-4",
      "big-3",
    ]);
  });

  it("keeps events of one moment in order of arrival across pages", async () => {
    for (const limit of [1, 2, 3, 6, 7]) {
      const { events, pages } = await readAll({ sessionId: "tied", limit });

      expect(pages).toBe(Math.ceil(7 / limit));
      expect(events.map((e) => e.eventKey)).toEqual(
        tiedSession().map((e) => e.id),
      );
      expect(events[0].type).toBe("session_start");
    }
  });

  it("pages of one event still meet at their boundaries", async () => {
    const { events, pages } = await readAll({ sessionId: "tree", limit: 1 });

    expect(pages).toBe(10);
    expect(events.map((e) => e.eventKey)).toEqual(
      treeSession().map((e) => e.id),
    );
  });

  it("places each event at its depth in the span tree", async () => {
    // Pages of two, so ancestors sit on pages before their descendants.
    const { events } = await readAll({ sessionId: "tree", limit: 2 });
    const depth = Object.fromEntries(events.map((e) => [e.eventKey, e.depth]));

    expect(depth).toMatchObject({
      root: 0,
      orphan: 0,
      child: 1,
      log: 2,
      grandchild: 2,
      "great-grandchild": 3,
      self: 0,
      "unknown-model": 0,
    });
    expect(depth["loop-a"]).toBeLessThanOrEqual(2);
    expect(depth["loop-b"]).toBeLessThanOrEqual(2);
    const great = events.find((e) => e.eventKey === "great-grandchild");
    expect(great).toMatchObject({
      spanId: "s-great",
      parentSpanId: "s-grand",
      inputTokens: 1200,
      outputTokens: 300,
      costSource: "computed",
    });
    expect(great?.costUsd).toBeGreaterThan(0);
    expect(events.find((e) => e.eventKey === "unknown-model")).toMatchObject({
      costSource: "unpriced",
      costUsd: null,
    });
  });

  it("masks secrets and carries each event's red flags", async () => {
    const { events } = await readAll({ sessionId: "tree", limit: 500 });
    const grandchild = events.find((e) => e.eventKey === "grandchild");

    expect(JSON.stringify(events)).not.toContain(awsKey);
    expect(JSON.stringify(grandchild?.input)).toContain("AKIA****");
    expect(grandchild?.toolName).toBe("Bash");
    expect(grandchild?.flags.map((f) => f.rule)).toContain(
      "secret.aws-access-key",
    );
    expect(grandchild?.flags.every((f) => !f.excerpt.includes(awsKey))).toBe(
      true,
    );
    expect(events.find((e) => e.eventKey === "root")?.flags).toEqual([]);
  });

  it("filters by type, flags and failures in the database", async () => {
    const flagged = await readAll({ sessionId: "tree", flaggedOnly: true });
    expect(flagged.events.map((e) => e.eventKey)).toEqual(["grandchild"]);
    expect(flagged.totals).toEqual([1]);

    const failures = await readAll({ sessionId: "tree", failuresOnly: true });
    expect(failures.events.map((e) => e.eventKey)).toEqual([
      "grandchild",
      "unknown-model",
    ]);

    const llm = await readAll({
      sessionId: "big",
      types: ["llm_call"],
      limit: 200,
    });
    expect(llm.events).toHaveLength(BIG / 2);
    expect(llm.totals[0]).toBe(BIG / 2);
    expect(llm.events.every((e) => e.type === "llm_call")).toBe(true);
  });

  it("gives the header with the first page, and pages on from it", async () => {
    const detail = await getSession(handle.db, viewer, {
      project: "timeline",
      sessionId: "big",
      limit: 100,
    });
    expect(detail.events).toHaveLength(100);
    expect(detail.truncated).toBe(true);
    expect(detail.session.eventCount).toBe(BIG);
    expect(detail.span?.start.toISOString()).toBe(at(0));
    expect(detail.span?.end.toISOString()).toBe(
      new Date(Date.parse(at(Math.floor((BIG - 1) / 3))) + 500).toISOString(),
    );

    const next = await listSessionEvents(handle.db, viewer, {
      project: "timeline",
      sessionId: detail.session.id,
      cursor: detail.nextCursor,
      limit: 500,
    });
    const seen = new Set([...detail.events, ...next.events].map((e) => e.id));
    expect(seen.size).toBe(600);

    const header = await getSession(handle.db, viewer, {
      project: "timeline",
      sessionId: "tree",
      limit: 0,
    });
    expect(header.events).toEqual([]);
    expect(header.truncated).toBe(true);
  });

  it("shows nothing outside the project and refuses a forged cursor", async () => {
    await expect(
      listSessionEvents(handle.db, stranger, {
        project: "timeline",
        sessionId: "big",
      }),
    ).rejects.toMatchObject({ code: "not_found" });
    await expect(
      listSessionEvents(handle.db, viewer, {
        project: "elsewhere",
        sessionId: "big",
      }),
    ).rejects.toMatchObject({ code: "not_found" });
    await expect(
      listSessionEvents(handle.db, viewer, {
        project: "timeline",
        sessionId: "big",
        cursor: "bm90LWEtY3Vyc29y",
      }),
    ).rejects.toMatchObject({
      code: "invalid_input",
      details: [{ path: "cursor" }],
    });
    await expect(
      listSessionEvents(handle.db, viewer, {
        project: "timeline",
        sessionId: "big",
        limit: 501,
      }),
    ).rejects.toMatchObject({ code: "invalid_input" });
  });
});
