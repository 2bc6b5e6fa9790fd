import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as checkRoute from "@/app/api/agent/v1/reservations/check/route";
import * as releaseRoute from "@/app/api/agent/v1/reservations/[id]/release/route";
import * as renewRoute from "@/app/api/agent/v1/reservations/[id]/renew/route";
import * as reservationsRoute from "@/app/api/agent/v1/reservations/route";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject } from "@/tests/fixtures";
import { FlotillaApiError, FlotillaClient } from "./index";

// The typed client's reservation methods against the real route handlers,
// handed each request the way Next.js routes it.

type Handler = (
  request: Request,
  context: { params: Promise<Record<string, string>> },
) => Promise<Response>;

/** A fetch that routes reservation URLs to their handlers. */
const routedFetch: typeof fetch = async (input, init) => {
  const request = new Request(input, init);
  const { pathname } = new URL(request.url);
  const parts = pathname.split("/").slice(5);
  const methods: Record<string, Handler> =
    parts.length === 0
      ? reservationsRoute
      : parts[0] === "check"
        ? checkRoute
        : parts[1] === "renew"
          ? renewRoute
          : releaseRoute;
  const handler = methods[request.method];
  if (!handler) return new Response(null, { status: 405 });
  const params: Record<string, string> =
    parts.length === 2 ? { id: parts[0] } : {};

  return handler(request, { params: Promise.resolve(params) });
};

describe.each(testKinds)("typed client reservations on %s", (kind) => {
  let handle: DatabaseHandle;
  let alpha: FlotillaClient;
  let beta: FlotillaClient;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    const project = await makeProject(handle.db);
    const made = [
      await makeAgent(handle.db, project.id, "alpha"),
      await makeAgent(handle.db, project.id, "beta"),
    ];
    [alpha, beta] = made.map(
      ({ secret }) =>
        new FlotillaClient({
          url: "http://flotilla.test",
          token: secret,
          fetch: routedFetch,
        }),
    );
  });
  afterAll(async () => {
    useDatabase(null);
    await handle.close();
  });

  it("reserves, checks, renews and releases", async () => {
    const granted = await beta.reserve({ globs: ["src/*.ts"], reason: "x" });
    if (!granted.granted) throw new Error("expected a grant");
    const id = granted.reservation.id;

    const refused = await alpha.reserve({ globs: ["src/**"] });
    expect(refused).toMatchObject({
      granted: false,
      conflicts: [{ holder: "beta", reservationId: id }],
    });
    const checked = await alpha.checkPaths(["src/a.ts", "src/api/a.ts"]);
    expect(checked.paths.map((p) => [p.path, p.held])).toEqual([
      ["src/a.ts", true],
      ["src/api/a.ts", false],
    ]);
    expect((await beta.reservations()).reservations.map((r) => r.id)).toEqual([
      id,
    ]);
    const renewed = await beta.renewReservation(id, { ttlSeconds: 900 });
    expect(renewed.reservation.ttlSeconds).toBe(900);

    const stranger = await alpha.releaseReservation(id).catch((e) => e);
    expect(stranger).toBeInstanceOf(FlotillaApiError);
    expect(stranger).toMatchObject({
      status: 409,
      code: "conflict",
      details: { holder: "beta" },
    });
    expect(await beta.releaseReservation(id)).toMatchObject({
      released: true,
      reservation: { id },
    });
    expect((await alpha.reserve({ globs: ["src/**"] })).granted).toBe(true);
  });
});
