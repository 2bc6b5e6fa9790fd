import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { queryRows, type DatabaseHandle } from "@/db/client";
import { agentSessions, eventFlags, events, spendHourly } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { openTestDatabase, testKinds } from "@/tests/db";
import { verifySessionChain } from "./chain";
import { ingestEvents, type AgentActor } from "./ingest";
import { listEventPartitions } from "./partitions";
import {
  applyRetention,
  getRetentionSettings,
  updateRetentionSettings,
} from "./retention";
import { rollupMismatches } from "./rollups";
import { makeAgent, makePerson, makeProject } from "./testing";

// Retention: raw events past a project's retention go (whole monthly
// partitions when every project is done with them), rollups stay longer,
// chains keep verifying over what is left, and a replay of pruned events
// still stores nothing.

const DAY = 86_400_000;
const today = new Date("2026-12-04T12:00:00.000Z");
const daysAgo = (days: number) => new Date(today.getTime() - days * DAY);

function call(sessionId: string, id: string, at: Date, extra = {}) {
  return {
    id,
    sessionId,
    type: "llm_call",
    name: "chat",
    model: "claude-sonnet-4-5",
    usage: { inputTokens: 1000, outputTokens: 100 },
    time: at.toISOString(),
    ...extra,
  };
}

describe.each(testKinds)("retention on %s", (kind) => {
  let handle: DatabaseHandle;
  let short: AgentActor;
  let long: AgentActor;
  let admin: Actor;
  let viewer: Actor;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    const a = await makeProject(handle.db, "short");
    const b = await makeProject(handle.db, "long");
    short = (await makeAgent(handle.db, a.id, "builder")).actor;
    long = (await makeAgent(handle.db, b.id, "builder")).actor;
    admin = (await makePerson(handle.db, "admin@example.com", "admin")).actor;
    viewer = (await makePerson(handle.db, "viewer@example.com", "viewer"))
      .actor;
  });
  afterAll(async () => handle.close());

  async function session(projectId: string, externalId: string) {
    const [row] = await handle.db
      .select()
      .from(agentSessions)
      .where(
        and(
          eq(agentSessions.projectId, projectId),
          eq(agentSessions.externalId, externalId),
        ),
      );

    return row;
  }

  async function eventCount(projectId: string) {
    const [row] = await queryRows<{ n: number | string }>(
      handle.db,
      sql`select count(*) as n from ${events} where project_id = ${projectId}`,
    );

    return Number(row.n);
  }

  it("lets an admin set retention, with field-level errors", async () => {
    expect(
      await getRetentionSettings(handle.db, viewer, { project: "short" }),
    ).toEqual({
      eventRetentionDays: 180,
      rollupRetentionDays: 1095,
      canEdit: false,
    });
    await expect(
      updateRetentionSettings(handle.db, viewer, {
        project: "short",
        eventRetentionDays: 30,
        rollupRetentionDays: 400,
      }),
    ).rejects.toMatchObject({ code: "forbidden" });
    await expect(
      updateRetentionSettings(handle.db, admin, {
        project: "short",
        eventRetentionDays: 30,
        rollupRetentionDays: 10,
      }),
    ).rejects.toMatchObject({
      code: "invalid_input",
      details: [expect.objectContaining({ path: "rollupRetentionDays" })],
    });
    expect(
      await updateRetentionSettings(handle.db, admin, {
        project: "short",
        eventRetentionDays: 30,
        rollupRetentionDays: 400,
      }),
    ).toEqual({ eventRetentionDays: 30, rollupRetentionDays: 400 });
  });

  it("drops what is past retention and keeps chains verifiable", async () => {
    // The short project: a session that began 60 days ago and goes on
    // today, with one old event that arrived late (after newer ones), and
    // a session from 500 days ago (past the rollup retention too).
    await ingestEvents(handle.db, short, {
      events: [
        call("ongoing", "o1", daysAgo(60)),
        call("ongoing", "o2", daysAgo(45), {
          input: { command: "rm -rf /" },
          type: "tool_call",
          toolName: "Bash",
          name: "Bash",
        }),
        call("ongoing", "o3", daysAgo(20)),
      ],
    });
    await ingestEvents(handle.db, short, {
      events: [
        call("ongoing", "o4-late", daysAgo(40)),
        call("ongoing", "o5", daysAgo(1)),
      ],
    });
    await ingestEvents(handle.db, short, {
      events: [call("ancient", "a1", daysAgo(500))],
    });
    // The long project keeps the default 180 days: its 100-day-old event
    // stays, and so does its partition.
    await ingestEvents(handle.db, long, {
      events: [
        call("kept", "k1", daysAgo(100)),
        call("kept", "k2", daysAgo(2)),
      ],
    });
    const shortId = short.projectId;
    const rollupsBefore = await handle.db
      .select()
      .from(spendHourly)
      .where(eq(spendHourly.projectId, shortId));
    expect(rollupsBefore.length).toBe(6);

    const report = await applyRetention(handle.db, today);

    // Only the 500-day-old month was past every project's retention.
    const ancientMonth = daysAgo(500).toISOString().slice(0, 7);
    expect(report.droppedPartitions).toEqual([
      `events_${ancientMonth.replace("-", "_")}`,
    ]);
    expect(
      (await listEventPartitions(handle.db)).map((p) => p.name),
    ).not.toContain(`events_${ancientMonth.replace("-", "_")}`);

    // "ongoing": o1 and o2 are older than 30 days and arrived first: they
    // go. o4-late is old too but arrived after o3 (20 days old), so it
    // stays until o3 goes: the chain loses a prefix, never a middle, and
    // nothing within retention is removed.
    const ongoing = await session(shortId, "ongoing");
    const left = await handle.db
      .select({ key: events.eventKey })
      .from(events)
      .where(eq(events.sessionId, ongoing.id));
    expect(left.map((r) => r.key).sort()).toEqual(["o3", "o4-late", "o5"]);
    expect(ongoing.prunedThroughSeq).toBe(2);
    expect(ongoing.eventCount).toBe(5);
    expect(
      await verifySessionChain(handle.db, admin, {
        project: "short",
        sessionId: ongoing.id,
      }),
    ).toEqual({ verified: true, length: 5, prunedThrough: 2 });
    // The flag on the pruned o2 went with it.
    const flags = await handle.db
      .select()
      .from(eventFlags)
      .where(eq(eventFlags.sessionId, ongoing.id));
    expect(flags).toEqual([]);
    expect(report.deletedEvents).toBe(3);
    expect(await eventCount(shortId)).toBe(3);
    expect(await eventCount(long.projectId)).toBe(2);

    // Rollups are kept for 400 days: all but the 500-day-old hour stay,
    // so spend history outlives the raw events.
    const rollupsAfter = await handle.db
      .select()
      .from(spendHourly)
      .where(eq(spendHourly.projectId, shortId));
    expect(rollupsAfter.length).toBe(5);
    expect(report.deletedRollupRows).toBe(1);

    // Replaying pruned events stores nothing and counts nothing twice.
    const replay = await ingestEvents(handle.db, short, {
      events: [call("ongoing", "o1", daysAgo(60))],
    });
    expect(replay).toMatchObject({ accepted: 0, duplicate: 1 });
    const rollupsReplayed = await handle.db
      .select()
      .from(spendHourly)
      .where(eq(spendHourly.projectId, shortId));
    expect(rollupsReplayed).toEqual(rollupsAfter);

    // Within the raw window, rollups still equal the events.
    expect(await rollupMismatches(handle.db, long.projectId)).toEqual([]);
  });

  it("never removes recent events for an old one that arrived after them", async () => {
    await ingestEvents(handle.db, long, {
      events: Array.from({ length: 5 }, (_, i) =>
        call("mixed", `m${i}`, daysAgo(1)),
      ),
    });
    // A wrong clock (or a careless agent) sends one event 400 days old.
    await ingestEvents(handle.db, long, {
      events: [call("mixed", "m-old", daysAgo(400))],
    });
    const report = await applyRetention(handle.db, today);

    const mixed = await session(long.projectId, "mixed");
    const left = await handle.db
      .select({ key: events.eventKey })
      .from(events)
      .where(eq(events.sessionId, mixed.id));
    expect(left.map((r) => r.key).sort()).toEqual([
      "m-old",
      "m0",
      "m1",
      "m2",
      "m3",
      "m4",
    ]);
    // Its month is past every project's retention, but it holds an event
    // a chain still needs: the partition is kept.
    const oldMonth = `events_${daysAgo(400).toISOString().slice(0, 7).replace("-", "_")}`;
    expect(report.droppedPartitions).not.toContain(oldMonth);
    expect(
      await verifySessionChain(handle.db, admin, {
        project: "long",
        sessionId: mixed.id,
      }),
    ).toEqual({ verified: true, length: 6, prunedThrough: 0 });
  });

  it("stores into a month whose partition retention dropped", async () => {
    await applyRetention(handle.db, today);
    // The 500-day-old month is gone; an event for it (a new key) makes
    // its partition again rather than failing.
    const result = await ingestEvents(handle.db, long, {
      events: [call("revived", "r1", daysAgo(500))],
    });
    expect(result.accepted).toBe(1);
  });
});
