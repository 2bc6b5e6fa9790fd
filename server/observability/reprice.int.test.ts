import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { queryRows, type DatabaseHandle } from "@/db/client";
import { agentSessions, auditLog, events } from "@/db/schema";
import { createCaller } from "@/server/api/root";
import { setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { trpcFailure } from "@/tests/failures";
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import { verifySessionChain } from "./chain";
import { ingestEvents, type AgentActor } from "./ingest";
import { rollupMismatches } from "./rollups";

// A project's own prices and repricing, through the console's procedures:
// who may change prices, what is refused, how ingest uses an override,
// and that repricing keeps session totals, rollups and the hash chain
// true to the events.

function call(
  sessionId: string,
  id: string,
  time: string,
  model: string,
  extra: Record<string, unknown> = {},
) {
  return {
    id,
    sessionId,
    type: "llm_call",
    name: "step",
    time,
    model,
    usage: {
      inputTokens: 1000,
      outputTokens: 100,
      cacheReadTokens: 10_000,
      cacheWrite5mTokens: 2000,
    },
    ...extra,
  };
}

// 1000*1 + 100*2 + 10000*0.1 + 2000*1.5 = 5200 micro-dollars at the
// override the tests add for llama-*.
const LLAMA_RATES = {
  input: 1,
  output: 2,
  cacheRead: 0.1,
  cacheWrite5m: 1.5,
  cacheWrite1h: 2,
};
const LLAMA_COST = "0.00520000";

describe.each(testKinds)("price overrides and repricing on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
  });
  afterAll(async () => handle.close());
  afterEach(() => setClock(null));

  async function setup() {
    const db = handle.db;
    const project = await makeProject(db);
    const { actor: agent } = await makeAgent(db, project.id, "builder");
    const caller = async (role: "admin" | "operator" | "viewer") =>
      createCaller({ db, actor: (await makeUser(db, role)).actor });

    return {
      db,
      project,
      agent,
      admin: await caller("admin"),
      operator: await caller("operator"),
      viewer: await caller("viewer"),
    };
  }

  async function ingest(agent: AgentActor, batch: unknown[]) {
    const result = await ingestEvents(handle.db, agent, { events: batch });
    expect(result.rejected).toBe(0);

    return result;
  }

  // Each session's totals against the sum of its events.
  async function sessionDrift(projectId: string) {
    return queryRows<{ id: string }>(
      handle.db,
      sql`select s.id from agent_sessions s
          left join (
            select session_id, coalesce(sum(cost_usd), 0) as cost,
              count(*) filter (where cost_source = 'unpriced') as unpriced
            from events where project_id = ${projectId}
            group by session_id
          ) e on e.session_id = s.id
          where s.project_id = ${projectId}
            and (s.cost_usd <> coalesce(e.cost, 0)
              or s.unpriced_count <> coalesce(e.unpriced, 0))`,
    );
  }

  async function costOf(projectId: string, eventKey: string) {
    const [row] = await handle.db
      .select({ cost: events.costUsd, source: events.costSource })
      .from(events)
      .where(
        and(eq(events.projectId, projectId), eq(events.eventKey, eventKey)),
      );

    return row;
  }

  it("lets admins add, list and delete overrides, audited", async () => {
    const { db, project, admin, viewer } = await setup();
    const input = { project: project.slug };
    const made = await admin.observability.prices.createOverride({
      ...input,
      pattern: " Llama-3.1-* ",
      label: "Self-hosted Llama",
      input: 0.6,
      output: 0.6,
      effectiveFrom: "2026-11-01",
    });
    // Cache rates default to the input rate; the pattern is lower-cased.
    expect(made).toMatchObject({
      pattern: "llama-3.1-*",
      label: "Self-hosted Llama",
      input: 0.6,
      output: 0.6,
      cacheRead: 0.6,
      cacheWrite5m: 0.6,
      cacheWrite1h: 0.6,
      effectiveFrom: new Date("2026-11-01T00:00:00Z"),
    });

    const listed = await viewer.observability.prices.list(input);
    expect(listed.canEdit).toBe(false);
    expect(listed.overrides.map((o) => o.id)).toEqual([made.id]);
    expect(listed.table.some((row) => row.family === "o3")).toBe(true);
    expect((await admin.observability.prices.list(input)).canEdit).toBe(true);

    const clash = await trpcFailure(
      admin.observability.prices.createOverride({
        ...input,
        pattern: "llama-3.1-*",
        input: 1,
        output: 1,
        effectiveFrom: "2026-11-01T00:00:00Z",
      }),
    );
    expect(clash.code).toBe("CONFLICT");
    expect(clash.message).toContain("'llama-3.1-*'");
    expect(clash.message).toContain("2026-11-01");

    await admin.observability.prices.deleteOverride({
      ...input,
      override: made.id,
    });
    expect((await viewer.observability.prices.list(input)).overrides).toEqual(
      [],
    );
    const gone = await trpcFailure(
      admin.observability.prices.deleteOverride({
        ...input,
        override: made.id,
      }),
    );
    expect(gone.code).toBe("NOT_FOUND");

    const audit = await db
      .select({ action: auditLog.action, details: auditLog.details })
      .from(auditLog)
      .where(eq(auditLog.projectId, project.id))
      .orderBy(auditLog.id);
    expect(audit.map((row) => row.action)).toEqual([
      "price_override.create",
      "price_override.delete",
    ]);
    expect(audit[0].details).toMatchObject({
      pattern: "llama-3.1-*",
      input: 0.6,
      effectiveFrom: "2026-11-01T00:00:00.000Z",
    });
  });

  it("refuses operators and viewers with 403", async () => {
    const { project, admin, operator, viewer } = await setup();
    const made = await admin.observability.prices.createOverride({
      project: project.slug,
      pattern: "llama-*",
      ...LLAMA_RATES,
      effectiveFrom: "2026-01-01",
    });
    for (const caller of [operator, viewer]) {
      const create = await trpcFailure(
        caller.observability.prices.createOverride({
          project: project.slug,
          pattern: "qwen-*",
          input: 1,
          output: 1,
          effectiveFrom: "2026-01-01",
        }),
      );
      expect(create.code).toBe("FORBIDDEN");
      expect(create.message).toContain("needs the admin role");
      const remove = await trpcFailure(
        caller.observability.prices.deleteOverride({
          project: project.slug,
          override: made.id,
        }),
      );
      expect(remove.code).toBe("FORBIDDEN");
      const reprice = await trpcFailure(
        caller.observability.prices.reprice({ project: project.slug }),
      );
      expect(reprice.code).toBe("FORBIDDEN");
    }
  });

  it.each([
    [{ pattern: "" }, "pattern", "Pattern is required"],
    [{ pattern: "llama 3" }, "pattern", "letters, digits"],
    [{ pattern: "**" }, "pattern", "besides *"],
    [{ input: -1 }, "input", "Input must be 0 or more"],
    [{ output: 10_000 }, "output", "below 10000"],
    [{ cacheRead: Number.NaN }, "cacheRead", "number of USD"],
    [{ input: 0.0000001 }, "input", "6 decimal places"],
    [{ effectiveFrom: "someday" }, "effectiveFrom", "must be a date"],
    [{ effectiveFrom: "1970-01-01" }, "effectiveFrom", "2000 and 2100"],
  ])("refuses %o with a field error", async (change, path, message) => {
    const { project, admin } = await setup();
    const failure = await trpcFailure(
      admin.observability.prices.createOverride({
        project: project.slug,
        pattern: "llama-*",
        input: 1,
        output: 1,
        effectiveFrom: "2026-01-01",
        ...change,
      }),
    );
    expect(failure.code).toBe("BAD_REQUEST");
    expect(failure.details).toEqual([
      { path, message: expect.stringContaining(message) },
    ]);
  });

  it("prices at ingest with the override in force at each event's time", async () => {
    const { db, project, agent, admin } = await setup();
    await admin.observability.prices.createOverride({
      project: project.slug,
      pattern: "llama-*",
      ...LLAMA_RATES,
      effectiveFrom: "2026-11-15",
    });
    // The table's Sonnet price is beaten by an override from its date on:
    // 1000*1 + 100*1 + 10000*1 + 2000*1 = 13100 micro-dollars.
    await admin.observability.prices.createOverride({
      project: project.slug,
      pattern: "claude-sonnet-4*",
      input: 1,
      output: 1,
      effectiveFrom: "2026-11-15",
    });
    await ingest(agent, [
      call("s1", "early", "2026-11-14T23:59:00Z", "llama-3.1-70b"),
      call("s1", "late", "2026-11-15T00:01:00Z", "llama-3.1-70b"),
      call("s1", "sonnet-early", "2026-11-14T23:59:00Z", "claude-sonnet-4-5"),
      call("s1", "sonnet-late", "2026-11-15T00:01:00Z", "claude-sonnet-4-5"),
    ]);
    expect(await costOf(project.id, "early")).toEqual({
      cost: null,
      source: "unpriced",
    });
    expect(await costOf(project.id, "late")).toEqual({
      cost: LLAMA_COST,
      source: "computed",
    });
    // Table: 1000*3 + 100*15 + 10000*0.3 + 2000*3.75 = 15000.
    expect((await costOf(project.id, "sonnet-early")).cost).toBe("0.01500000");
    expect((await costOf(project.id, "sonnet-late")).cost).toBe("0.01310000");
    expect(await rollupMismatches(db, project.id)).toEqual([]);
  });

  it("a price given no date holds for every earlier event, so repricing reaches them all", async () => {
    const { project, agent, admin, viewer } = await setup();
    const input = { project: project.slug };
    await ingest(agent, [
      call("old", "old-1", "2025-03-01T10:00:00Z", "llama-3.1-70b"),
      call("old", "old-2", "2026-11-20T10:00:00Z", "llama-3.1-70b"),
    ]);

    const created = await admin.observability.prices.createOverride({
      ...input,
      pattern: "llama-*",
      ...LLAMA_RATES,
    });
    expect(created.effectiveFrom).toEqual(new Date("2000-01-01T00:00:00Z"));
    const result = await admin.observability.prices.reprice(input);
    expect(result).toMatchObject({ repriced: 2, stillUnpriced: 0 });
    expect(await costOf(project.id, "old-1")).toEqual({
      cost: LLAMA_COST,
      source: "computed",
    });
    expect(await viewer.observability.prices.unpriced(input)).toEqual([]);
    expect(await sessionDrift(project.id)).toEqual([]);
  });

  it("reprices unpriced events once a price exists, keeping totals, rollups and chains", async () => {
    const { db, project, agent, admin, viewer } = await setup();
    const input = { project: project.slug };
    // Enough events for more than one batch, over sessions and hours,
    // with a reported cost, a table model and a model still unknown.
    const batch = Array.from({ length: 640 }, (_, n) =>
      call(
        `s${n % 3}`,
        `llama-${n}`,
        new Date(Date.UTC(2026, 10, 20, n % 24, n % 60)).toISOString(),
        n % 2 ? "llama-3.1-70b" : "llama-3.3-70b",
      ),
    );
    await ingest(agent, batch.slice(0, 600));
    await ingest(agent, [
      ...batch.slice(600),
      call("s0", "reported", "2026-11-20T05:00:00Z", "llama-3.1-70b", {
        costUsd: 0.25,
      }),
      call("s1", "gpt", "2026-11-20T05:00:00Z", "gpt-4.1"),
      call("s2", "mystery", "2026-11-20T05:00:00Z", "mystery-9"),
      call("s2", "before", "2026-10-01T05:00:00Z", "llama-3.1-8b"),
    ]);

    const unpriced = await viewer.observability.prices.unpriced(input);
    expect(unpriced.map((m) => [m.model, m.events, m.priceable])).toEqual([
      ["llama-3.1-70b", 320, false],
      ["llama-3.3-70b", 320, false],
      ["llama-3.1-8b", 1, false],
      ["mystery-9", 1, false],
    ]);
    expect(unpriced[0]).toMatchObject({
      inputTokens: 320_000,
      outputTokens: 32_000,
      cacheReadTokens: 3_200_000,
      cacheWriteTokens: 640_000,
      firstSeen: new Date("2026-11-20T01:01:00Z"),
      lastSeen: new Date("2026-11-20T23:59:00Z"),
    });

    await admin.observability.prices.createOverride({
      ...input,
      pattern: "llama-*",
      ...LLAMA_RATES,
      effectiveFrom: "2026-11-01",
    });
    const afterOverride = await viewer.observability.prices.unpriced(input);
    expect(
      afterOverride.filter((m) => m.priceable).map((m) => m.model),
    ).toEqual(["llama-3.1-70b", "llama-3.3-70b"]);

    // One model first, then the rest.
    const first = await admin.observability.prices.reprice({
      ...input,
      model: "llama-3.1-70b",
    });
    expect(first).toEqual({
      repriced: 320,
      stillUnpriced: 0,
      costUsd: "1.66400000",
    });
    expect(await rollupMismatches(db, project.id)).toEqual([]);
    expect(await sessionDrift(project.id)).toEqual([]);

    const rest = await admin.observability.prices.reprice(input);
    expect(rest).toEqual({
      repriced: 320,
      // mystery-9 has no price; llama-3.1-8b ran before the override.
      stillUnpriced: 2,
      costUsd: "1.66400000",
    });
    expect(await costOf(project.id, "llama-7")).toEqual({
      cost: LLAMA_COST,
      source: "computed",
    });
    expect(await costOf(project.id, "reported")).toEqual({
      cost: "0.25000000",
      source: "reported",
    });
    expect((await costOf(project.id, "before")).source).toBe("unpriced");
    expect(await rollupMismatches(db, project.id)).toEqual([]);
    expect(await sessionDrift(project.id)).toEqual([]);

    const sessions = await db
      .select()
      .from(agentSessions)
      .where(eq(agentSessions.projectId, project.id));
    expect(sessions.reduce((n, s) => n + s.unpricedCount, 0)).toBe(2);
    for (const session of sessions) {
      const verdict = await verifySessionChain(
        db,
        (await makeUser(db, "viewer")).actor,
        { project: project.slug, sessionId: session.id },
      );
      expect(verdict).toMatchObject({ verified: true });
    }

    // Nothing is left to price: a second run changes nothing.
    expect(await admin.observability.prices.reprice(input)).toEqual({
      repriced: 0,
      stillUnpriced: 2,
      costUsd: "0.00000000",
    });
    const audit = await db
      .select({ details: auditLog.details })
      .from(auditLog)
      .where(
        and(
          eq(auditLog.projectId, project.id),
          eq(auditLog.action, "prices.reprice"),
        ),
      );
    const counted = audit.reduce(
      (n, row) => n + Number((row.details as { repriced: number }).repriced),
      0,
    );
    expect(counted).toBe(640);
    // One row per run (the model first, then the rest), not per batch.
    expect(audit.length).toBe(2);
  });
});
