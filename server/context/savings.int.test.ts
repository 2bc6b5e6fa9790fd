import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import {
  agentSessions,
  contextEvalRuns,
  contextLookups,
  events,
} from "@/db/schema";
import { createCaller } from "@/server/api/root";
import { ensureEventPartitions } from "@/server/observability/partitions";
import { newId, setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import { contextSavings, tokensToUsd } from "./savings";

// The savings ledger's arithmetic: baseline minus served per answered
// agent lookup, never below nothing; no-answers and people's lookups save
// nothing; dollars at the input price of the model each agent used most;
// and the estimate scaled by the latest eval's hit@1.

const day1 = new Date("2026-11-10T09:00:00Z");
const day2 = new Date("2026-11-11T23:30:00Z");
const today = new Date("2026-11-12T12:00:00Z");

describe.each(testKinds)("context savings on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
  });
  afterEach(() => setClock(null));
  afterAll(async () => {
    await handle.close();
  });

  async function setUp() {
    const db = handle.db;
    const project = await makeProject(db);
    const opus = await makeAgent(db, project.id, "opus-agent");
    const plain = await makeAgent(db, project.id, "plain-agent");
    const person = await makeUser(db, "viewer");

    // opus-agent's events name two models; the one it used most prices it.
    const sessionId = newId();
    await db.insert(agentSessions).values({
      id: sessionId,
      projectId: project.id,
      agentId: opus.agent.id,
      externalId: `s-${sessionId}`,
      source: "native",
      startedAt: day1,
      lastEventAt: day1,
    });
    await ensureEventPartitions(db, [day1]);
    await db.insert(events).values(
      ["claude-opus-4-5", "claude-opus-4-5", "gpt-4o-mini"].map((model) => ({
        id: newId(),
        projectId: project.id,
        sessionId,
        agentId: opus.agent.id,
        eventKey: newId(),
        source: "native",
        type: "llm_call",
        name: "model call",
        model,
        occurredAt: day1,
        receivedAt: day1,
      })),
    );

    const lookup = (
      at: Date,
      who: { agentId?: string; userId?: string },
      figures: {
        answered: boolean;
        served: number;
        document: number;
        top3: number;
      },
    ) => ({
      projectId: project.id,
      agentId: who.agentId ?? null,
      userId: who.userId ?? null,
      query: "q",
      answered: figures.answered,
      servedTokens: figures.served,
      documentTokens: figures.document,
      top3Tokens: figures.top3,
      tier: "section",
      servedStatus: figures.answered ? "canonical" : null,
      createdAt: at,
    });
    await db.insert(contextLookups).values([
      // Saves 900 against the document, 2,900 against the top three.
      lookup(
        day1,
        { agentId: opus.agent.id },
        {
          answered: true,
          served: 100,
          document: 1000,
          top3: 3000,
        },
      ),
      // Served more than the document: saves nothing there, 2,500 on top3.
      lookup(
        day1,
        { agentId: opus.agent.id },
        {
          answered: true,
          served: 500,
          document: 400,
          top3: 3000,
        },
      ),
      // A no-answer saves nothing, whatever its baselines say.
      lookup(
        day1,
        { agentId: opus.agent.id },
        {
          answered: false,
          served: 0,
          document: 800,
          top3: 5000,
        },
      ),
      lookup(
        day2,
        { agentId: plain.agent.id },
        {
          answered: true,
          served: 200,
          document: 2200,
          top3: 4200,
        },
      ),
      // The console playground: counted apart, never as savings.
      lookup(
        day2,
        { userId: person.user.id },
        {
          answered: true,
          served: 10,
          document: 9000,
          top3: 9000,
        },
      ),
      // Before the window.
      lookup(
        new Date("2026-10-01T00:00:00Z"),
        { agentId: plain.agent.id },
        {
          answered: true,
          served: 1,
          document: 100000,
          top3: 100000,
        },
      ),
    ]);

    return { project, opus, plain, person };
  }

  it("adds up savings per agent and day against both baselines", async () => {
    const { project, opus, plain } = await setUp();
    setClock(() => today);
    const savings = await contextSavings(
      handle.db,
      { kind: "cli", label: "test" },
      { project: project.slug, days: 7 },
    );

    expect(savings.from).toEqual(new Date("2026-11-06T00:00:00Z"));
    expect(savings.days).toEqual([
      expect.objectContaining({
        day: "2026-11-10",
        agentId: opus.agent.id,
        lookups: 3,
        answered: 2,
        abstained: 1,
        servedTokens: 600,
        documentTokens: 1400,
        top3Tokens: 6000,
        savedVsDocument: 900,
        savedVsTop3: 5400,
        // claude-opus-4-5 input: $5 per million tokens.
        usdSavedVsDocument: 0.0045,
        usdSavedVsTop3: 0.027,
      }),
      expect.objectContaining({
        day: "2026-11-11",
        agentId: plain.agent.id,
        lookups: 1,
        savedVsDocument: 2000,
        savedVsTop3: 4000,
        // No events: the default model, claude-sonnet-4 at $3 per million.
        usdSavedVsDocument: 0.006,
        usdSavedVsTop3: 0.012,
      }),
    ]);
    expect(savings.agents).toEqual([
      expect.objectContaining({
        agentName: "opus-agent",
        model: "claude-opus-4-5",
        modelSource: "events",
        inputUsdPerMillion: 5,
      }),
      expect.objectContaining({
        agentName: "plain-agent",
        model: "claude-sonnet-4",
        modelSource: "default",
        inputUsdPerMillion: 3,
      }),
    ]);
    expect(savings.estimate).toMatchObject({
      lookups: 4,
      answered: 3,
      abstained: 1,
      savedVsDocument: 2900,
      savedVsTop3: 9400,
      usdSavedVsDocument: 0.0105,
      usdSavedVsTop3: 0.039,
    });
    expect(savings.otherLookups).toEqual({ lookups: 1, answered: 1 });
    expect(savings.atMeasuredCorrectness).toBeNull();
  });

  it("scales the estimate by the latest eval's hit@1, the project's first", async () => {
    const { project } = await setUp();
    setClock(() => today);
    const read = () =>
      contextSavings(
        handle.db,
        { kind: "cli", label: "test" },
        { project: project.slug, days: 7 },
      );
    const run = (projectId: string | null, hitAt1: number, at: Date) => ({
      id: newId(),
      projectId,
      cases: 30,
      hitAt1,
      mustContainRate: 0.7,
      results: {},
      createdAt: at,
    });

    await handle.db
      .insert(contextEvalRuns)
      .values(run(null, 0.5, new Date("2026-11-11T00:00:00Z")));
    expect((await read()).atMeasuredCorrectness).toMatchObject({
      hitAt1: 0.5,
      scope: "instance",
      savedVsDocument: 1450,
      savedVsTop3: 4700,
      usdSavedVsDocument: 0.00525,
      usdSavedVsTop3: 0.0195,
    });

    // The project's own run wins over a newer instance-wide one.
    await handle.db
      .insert(contextEvalRuns)
      .values([
        run(project.id, 0.8, new Date("2026-11-09T00:00:00Z")),
        run(null, 0.1, new Date("2026-11-12T00:00:00Z")),
      ]);
    expect((await read()).atMeasuredCorrectness).toMatchObject({
      hitAt1: 0.8,
      scope: "project",
      savedVsDocument: 2320,
      savedVsTop3: 7520,
    });
  });

  it("serves the console through context.savings, for viewers of the project", async () => {
    const { project } = await setUp();
    setClock(() => today);
    const viewer = await makeUser(handle.db, "viewer");
    const caller = createCaller({ db: handle.db, actor: viewer.actor });
    const savings = await caller.context.savings({
      projectSlug: project.slug,
      days: 30,
    });
    expect(savings.estimate).toMatchObject({
      savedVsDocument: 2900,
      savedVsTop3: 9400,
    });

    await expect(
      caller.context.savings({ projectSlug: "no-such-project", days: 30 }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("converts tokens to dollars at a per-million price", () => {
    expect(tokensToUsd(1_000_000, 3)).toBe(3);
    expect(tokensToUsd(2500, 5)).toBe(0.0125);
    expect(tokensToUsd(0, 15)).toBe(0);
  });
});
