import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { queryRows, type DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { POST as postEvents } from "@/app/api/agent/v1/events/route";
import type { Actor } from "@/server/identity/actor";
import { openTestDatabase, testKinds } from "@/tests/db";
import {
  nativeEventBatches,
  serveRouteHandler,
  type RouteServer,
} from "./bench";
import { verifySessionChain } from "./chain";
import { rollupMismatches } from "./rollups";
import { makeAgent, makePerson, makeProject } from "./testing";

// A burst of event batches over real HTTP: the route handler served on
// loopback, batches posted with fetch while earlier ones are still in
// flight. A steady phase sends one batch every 100 ms; the burst sends five
// times as many in the same time, and ten of its batches are sent twice at
// once, as an agent retrying a request it thinks was lost. Nothing may
// answer 5xx, and every event must be stored exactly once. The only
// refusal allowed is 429 with Retry-After (the per-token rate limiter);
// the client then waits as told and sends again.

const BATCH = 100;
const STEADY_BATCHES = 10;
const STEADY_GAP_MS = 100;
const BURST_BATCHES = 50;
const BURST_GAP_MS = STEADY_GAP_MS / 5;
const RESENT = 10;

interface Outcome {
  statuses: number[];
  accepted: number;
  duplicate: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function post(
  url: string,
  token: string,
  body: string,
  outcome: Outcome,
): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
      },
      body,
    });
    outcome.statuses.push(response.status);
    const answer = (await response.json()) as {
      accepted?: number;
      duplicate?: number;
    };
    if (response.status === 429) {
      const wait = Number(response.headers.get("retry-after"));
      expect(wait).toBeGreaterThan(0);
      await sleep(wait * 1000);
      continue;
    }
    if (response.status !== 200) return;
    outcome.accepted += answer.accepted ?? 0;
    outcome.duplicate += answer.duplicate ?? 0;

    return;
  }
}

/** Starts one post every `gapMs` without waiting for earlier answers. */
async function sendAtRate(
  bodies: string[],
  gapMs: number,
  send: (body: string) => Promise<void>,
) {
  const inFlight: Promise<void>[] = [];
  for (const body of bodies) {
    inFlight.push(send(body));
    await sleep(gapMs);
  }
  await Promise.all(inFlight);
}

describe.each(testKinds)("a burst of event batches on %s", (kind) => {
  let handle: DatabaseHandle;
  let server: RouteServer;
  let projectId: string;
  let token: string;
  let viewer: Actor;
  const slug = `burst-${kind}`;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    server = await serveRouteHandler(postEvents);
    const project = await makeProject(handle.db, slug);
    projectId = project.id;
    token = (await makeAgent(handle.db, project.id, "burst-agent")).secret;
    viewer = (await makePerson(handle.db, `burst@${kind}.test`, "viewer"))
      .actor;
  });
  afterAll(async () => {
    await server?.close();
    useDatabase(null);
    await handle?.close();
  });

  it("answers no 5xx and stores every accepted event exactly once", async () => {
    const url = `${server.url}/api/agent/v1/events`;
    const batches = nativeEventBatches(
      (STEADY_BATCHES + BURST_BATCHES) * BATCH,
      BATCH,
      `burst-${kind}`,
    );
    const bodies = batches.map((events) => JSON.stringify({ events }));
    const steady = bodies.slice(0, STEADY_BATCHES);
    const burst = bodies.slice(STEADY_BATCHES);
    // Retries interleaved with the batches they repeat.
    const burstWithRetries = burst.flatMap((body, i) =>
      i < RESENT ? [body, body] : [body],
    );
    const outcome: Outcome = { statuses: [], accepted: 0, duplicate: 0 };
    const send = (body: string) => post(url, token, body, outcome);

    await sendAtRate(steady, STEADY_GAP_MS, send);
    await sendAtRate(burstWithRetries, BURST_GAP_MS, send);

    const served = outcome.statuses.filter((s) => s !== 429);
    expect(served.filter((s) => s >= 500)).toEqual([]);
    expect(served.every((s) => s === 200)).toBe(true);
    expect(served).toHaveLength(bodies.length + RESENT);
    const distinct = batches.flat().length;
    expect(outcome.accepted).toBe(distinct);
    expect(outcome.duplicate).toBe(RESENT * BATCH);

    const [stored] = await queryRows<{ rows: string; keys: string }>(
      handle.db,
      sql`select count(*) as rows, count(distinct event_key) as keys
          from events where project_id = ${projectId}`,
    );
    expect(Number(stored.rows)).toBe(distinct);
    expect(Number(stored.keys)).toBe(distinct);

    // Session totals, spend rollups and every session's hash chain agree
    // with the events stored under concurrent batches.
    const sessions = await queryRows<{ id: string; event_count: number }>(
      handle.db,
      sql`select id, event_count from agent_sessions
          where project_id = ${projectId}`,
    );
    const counted = sessions.reduce((n, s) => n + Number(s.event_count), 0);
    expect(counted).toBe(distinct);
    expect(await rollupMismatches(handle.db, projectId)).toEqual([]);
    for (const session of sessions) {
      const verdict = await verifySessionChain(handle.db, viewer, {
        project: slug,
        sessionId: session.id,
      });
      expect(verdict).toMatchObject({ verified: true });
    }
  }, 120_000);
});
