import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { queryRows, type DatabaseHandle } from "@/db/client";
import { agentSessions, eventFlags, eventKeys, events } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { verifySessionChain } from "./chain";
import { receiveClaudeCodeHook } from "./hooks";
import { ingestEvents, type AgentActor } from "./ingest";
import { transcriptUsageEvents } from "./normalize/claude-code-transcript";
import { ingestOtlpLogs, ingestOtlpTraces } from "./otlp";
import { getSession, listSessions } from "./sessions";
import {
  makeAgent,
  makePerson,
  makeProject,
  readCase,
  readJsonLines,
  steppingClock,
} from "./testing";

// Red flags and the hash chain, through the same ingest every source uses.

const awsKey = "AKIA" + "ZZQWERTYUIOPASDF";

function native(
  sessionId: string,
  id: string,
  extra: Record<string, unknown> = {},
) {
  return {
    id,
    sessionId,
    type: "tool_call",
    name: "Bash",
    toolName: "Bash",
    time: "2026-12-01T10:00:00.000Z",
    ...extra,
  };
}

describe.each(testKinds)("red flags and hash chains on %s", (kind) => {
  let handle: DatabaseHandle;
  let agent: AgentActor;
  let viewer: Actor;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    const project = await makeProject(handle.db, "safety");
    agent = (await makeAgent(handle.db, project.id, "builder")).actor;
    viewer = (await makePerson(handle.db, "viewer@example.com", "admin")).actor;
  });
  afterAll(async () => handle.close());
  afterEach(() => setClock(null));

  async function sessionOf(externalId: string) {
    const [row] = await handle.db
      .select()
      .from(agentSessions)
      .where(eq(agentSessions.externalId, externalId));

    return row;
  }

  async function verify(sessionId: string) {
    return verifySessionChain(handle.db, viewer, {
      project: "safety",
      sessionId,
    });
  }

  it("flags risky events once, counts them and masks secrets", async () => {
    const batch = {
      events: [
        native("flagged", "e1", { input: { command: "sudo rm -rf /" } }),
        native("flagged", "e2", { input: { command: "rm -rf ./build" } }),
        native("flagged", "e3", {
          toolName: "Read",
          name: "Read",
          input: { file_path: "/repo/.aws/credentials" },
          output: { content: `aws_access_key_id = ${awsKey}\n` },
        }),
        native("flagged", "e4", {
          type: "file_change",
          toolName: "Write",
          name: "Write",
          input: { file_path: "/repo/.env.production", content: "A=1" },
        }),
        native("flagged", "e5", {
          input: { command: 'psql -c "DELETE FROM t WHERE id=1"' },
        }),
      ],
    };
    expect((await ingestEvents(handle.db, agent, batch)).accepted).toBe(5);
    // A replay stores no second flag.
    expect((await ingestEvents(handle.db, agent, batch)).duplicate).toBe(5);

    const session = await sessionOf("flagged");
    const flags = await handle.db
      .select()
      .from(eventFlags)
      .where(eq(eventFlags.sessionId, session.id));
    expect(flags.map((f) => [f.rule, f.severity]).sort()).toEqual([
      ["secret.aws-access-key", "critical"],
      ["shell.recursive-delete", "critical"],
      ["write.env-file", "high"],
    ]);
    expect(session.flagCount).toBe(3);
    expect(JSON.stringify(flags)).not.toContain(awsKey);

    const detail = await getSession(handle.db, viewer, {
      project: "safety",
      sessionId: "flagged",
    });
    const byKey = new Map(detail.events.map((e) => [e.eventKey, e]));
    expect(byKey.get("e1")?.flags.map((f) => f.rule)).toEqual([
      "shell.recursive-delete",
    ]);
    expect(byKey.get("e2")?.flags).toEqual([]);
    expect(byKey.get("e5")?.flags).toEqual([]);
    expect(JSON.stringify(detail)).not.toContain(awsKey);
    expect(JSON.stringify(byKey.get("e3")?.output)).toContain("AKIA****");

    const { sessions: listed } = await listSessions(handle.db, viewer, {
      project: "safety",
    });
    expect(listed.find((s) => s.externalId === "flagged")?.flagCount).toBe(3);
  });

  it("chains every case session, replays included", async () => {
    setClock(steppingClock("2026-11-30T09:14:00.000Z"));
    const bodies = readJsonLines("hooks/session-basic.jsonl");
    const transcript = {
      source: "claude-code-transcript",
      events: transcriptUsageEvents(
        readJsonLines("hooks/transcript-usage.jsonl"),
      ),
    };
    const trace = JSON.parse(readCase("otlp/genai-trace.json")) as unknown;
    const logs = JSON.parse(readCase("otlp/claude-code-logs.json")) as unknown;
    for (let round = 0; round < 2; round += 1) {
      for (const body of bodies) {
        await receiveClaudeCodeHook(handle.db, agent, body);
      }
      await ingestEvents(handle.db, agent, transcript);
      await ingestOtlpTraces(handle.db, agent, trace);
      await ingestOtlpLogs(handle.db, agent, logs);
    }

    const sessions = await handle.db
      .select()
      .from(agentSessions)
      .where(eq(agentSessions.projectId, agent.projectId));
    expect(sessions.length).toBeGreaterThanOrEqual(4);
    for (const session of sessions) {
      expect(await verify(session.id)).toEqual({
        verified: true,
        length: session.eventCount,
        prunedThrough: 0,
      });
    }
  });

  it("keeps one chain when batches of a session arrive together", async () => {
    const batches = Array.from({ length: 6 }, (_, b) => ({
      events: Array.from({ length: 25 }, (_, i) =>
        native("parallel", `p-${b}-${i}`, { input: { command: `echo ${i}` } }),
      ),
    }));
    // Two sessions whose batches share a key: one of them stores it.
    batches.push({
      events: [
        native("parallel-b", "p-2-3"),
        native("parallel-b", "b-1"),
        native("parallel-b", "b-2"),
      ],
    });
    await Promise.all(
      batches.map((batch) => ingestEvents(handle.db, agent, batch)),
    );

    for (const externalId of ["parallel", "parallel-b"]) {
      const session = await sessionOf(externalId);
      const seqs = (
        await handle.db
          .select({ seq: events.chainSeq })
          .from(events)
          .where(eq(events.sessionId, session.id))
      )
        .map((r) => r.seq)
        .sort((a, b) => (a ?? 0) - (b ?? 0));
      expect(seqs).toEqual(
        Array.from({ length: session.eventCount }, (_, i) => i + 1),
      );
      expect(await verify(session.id)).toEqual({
        verified: true,
        length: session.eventCount,
        prunedThrough: 0,
      });
    }
    const total =
      (await sessionOf("parallel")).eventCount +
      (await sessionOf("parallel-b")).eventCount;
    expect(total).toBe(152);
  });

  // On PostgreSQL a key can still collide at insert: another session's
  // batch stored it after this batch looked. The chain is rebuilt over the
  // rows actually stored.
  it.runIf(kind === "postgres")(
    "relinks a chain when a key is taken by another session meanwhile",
    async () => {
      await ingestEvents(handle.db, agent, {
        events: [native("race-a", "race-a-0"), native("race-b", "race-b-0")],
      });
      const other = await sessionOf("race-a");
      let racing: Promise<unknown> = Promise.resolve();
      await handle.db.transaction(async (tx) => {
        await tx.insert(events).values({
          id: "00000000-0000-4000-8000-00000000ace1",
          projectId: agent.projectId,
          sessionId: other.id,
          agentId: agent.agentId,
          eventKey: "race-shared",
          source: "native",
          type: "tool_call",
          name: "Bash",
          occurredAt: new Date("2026-12-01T10:00:00.000Z"),
          receivedAt: new Date("2026-12-01T10:00:00.000Z"),
        });
        await tx.insert(eventKeys).values({
          projectId: agent.projectId,
          agentId: agent.agentId,
          eventKey: "race-shared",
          eventId: "00000000-0000-4000-8000-00000000ace1",
          occurredAt: new Date("2026-12-01T10:00:00.000Z"),
        });
        racing = ingestEvents(handle.db, agent, {
          events: [
            native("race-b", "race-b-1"),
            native("race-b", "race-shared"),
            native("race-b", "race-b-2"),
          ],
        });
        await new Promise((resolve) => setTimeout(resolve, 300));
      });
      expect(await racing).toMatchObject({ accepted: 2, duplicate: 1 });

      const session = await sessionOf("race-b");
      expect(session.chainLength).toBe(3);
      expect(await verify(session.id)).toEqual({
        verified: true,
        length: 3,
        prunedThrough: 0,
      });
    },
  );

  it("never takes one agent's event for a replay of another's", async () => {
    const project = await makeProject(handle.db, "two-agents");
    const alice = (await makeAgent(handle.db, project.id, "alice")).actor;
    const mallory = (await makeAgent(handle.db, project.id, "mallory")).actor;
    // Mallory reports first, under the key Alice's hook event will carry.
    const hookKey = "claude-code:alice-session:PostToolUse:toolu_01";
    expect(
      await ingestEvents(handle.db, mallory, {
        events: [native("mallory-session", hookKey)],
      }),
    ).toMatchObject({ accepted: 1, duplicate: 0 });
    const aliceEvent = native("alice-session", hookKey, {
      input: { command: "rm -rf /" },
    });
    expect(
      await ingestEvents(handle.db, alice, { events: [aliceEvent] }),
    ).toMatchObject({ accepted: 1, duplicate: 0 });
    // Her own replay is still a replay.
    expect(
      await ingestEvents(handle.db, alice, { events: [aliceEvent] }),
    ).toMatchObject({ accepted: 0, duplicate: 1 });
    const [stored] = await handle.db
      .select({ flags: agentSessions.flagCount })
      .from(agentSessions)
      .where(eq(agentSessions.externalId, "alice-session"));
    expect(stored.flags).toBe(1);
  });

  it("keeps JSON-looking text as text, so its chain still verifies", async () => {
    const texts = ["123", "{}", "true", "null", '"quoted"', "[1,2]"];
    await ingestEvents(handle.db, agent, {
      events: texts.map((text, i) =>
        native("json-text", `jt-${i}`, { input: text, output: text }),
      ),
    });
    const session = await sessionOf("json-text");
    const rows = await handle.db
      .select({
        key: events.eventKey,
        input: events.input,
        output: events.output,
      })
      .from(events)
      .where(eq(events.sessionId, session.id));
    const byKey = new Map(rows.map((r) => [r.key, r]));
    texts.forEach((text, i) => {
      expect(byKey.get(`jt-${i}`)).toMatchObject({ input: text, output: text });
    });
    expect(await verify(session.id)).toEqual({
      verified: true,
      length: texts.length,
      prunedThrough: 0,
    });
  });

  it("survives repricing and reports the first tampered event", async () => {
    const batch = {
      events: Array.from({ length: 5 }, (_, i) =>
        native("tampered", `t-${i}`, {
          type: "llm_call",
          name: "chat",
          toolName: undefined,
          model: "claude-sonnet-4-5",
          usage: { inputTokens: 100 * (i + 1), outputTokens: 10 },
          input: { prompt: `step ${i}` },
        }),
      ),
    };
    await ingestEvents(handle.db, agent, batch);
    const session = await sessionOf("tampered");

    // Repricing rewrites cost, which the chain leaves out.
    await handle.db.execute(
      sql`update events set cost_usd = 1.5, cost_source = 'reported'
          where session_id = ${session.id}`,
    );
    expect(await verify(session.id)).toEqual({
      verified: true,
      length: 5,
      prunedThrough: 0,
    });

    await handle.db.execute(
      sql`update events set input = '{"prompt": "something else"}'::jsonb
          where session_id = ${session.id} and event_key = 't-2'`,
    );
    const [third] = await queryRows<{ id: string }>(
      handle.db,
      sql`select id from events where session_id = ${session.id}
          and event_key = 't-2'`,
    );
    expect(await verify(session.id)).toMatchObject({
      verified: false,
      brokenAt: 3,
      eventId: third.id,
    });

    // Deleting the tampered event leaves a gap at the same place.
    await handle.db.execute(sql`delete from events where id = ${third.id}`);
    expect(await verify(session.id)).toMatchObject({
      verified: false,
      brokenAt: 3,
    });
  });

  it("notices a deleted last event", async () => {
    await ingestEvents(handle.db, agent, {
      events: [native("tail", "tail-1"), native("tail", "tail-2")],
    });
    const session = await sessionOf("tail");
    await handle.db.execute(
      sql`delete from events where session_id = ${session.id}
          and event_key = 'tail-2'`,
    );
    expect(await verify(session.id)).toMatchObject({
      verified: false,
      brokenAt: 2,
      eventId: null,
    });
  });
});
