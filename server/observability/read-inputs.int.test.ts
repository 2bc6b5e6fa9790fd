import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { createCaller } from "@/server/api/root";
import type { Actor } from "@/server/identity/actor";
import { openTestDatabase, testKinds } from "@/tests/db";
import { GET as getSpend } from "@/app/api/v1/projects/[slug]/spend/route";
import { ingestEvents } from "./ingest";
import { listSessionEvents } from "./session-events";
import { listSessions } from "./sessions";
import { spendOverview } from "./spend-overview";
import { makeAgent, makePerson, makeProject } from "./testing";

// The read side takes times from people and scripts: list filters, range
// bounds and the cursors it handed out. Times PostgreSQL cannot read (year
// 0, negative years, years past 9999, month 99) must come back as invalid
// input naming the field, and the edges of the years events may have
// (1970 to 9999) must still be answered.

const SLUG = "time-edges";
const SOME_ID = "3f0c9a52-7d1e-4b8a-9c6d-1a2b3c4d5e6f";

/** The error `run` throws, as code and the fields it names. */
async function refusal(run: () => Promise<unknown>) {
  try {
    await run();
  } catch (error) {
    const { code, message, details } = error as {
      code?: string;
      message: string;
      details?: { path: string; message: string }[];
    };

    return {
      code,
      message,
      fields: (details ?? []).map((issue) => issue.path),
      details: details ?? [],
    };
  }
  throw new Error("expected the call to be refused");
}

function listCursor(at: string, id = SOME_ID) {
  return Buffer.from(`${at}|${id}`).toString("base64url");
}

function timelineCursor(at: string, id = SOME_ID) {
  return Buffer.from(JSON.stringify([at, id])).toString("base64url");
}

describe.each(testKinds)("times given to reads on %s", (kind) => {
  let handle: DatabaseHandle;
  let viewer: Extract<Actor, { kind: "user" }>;
  let token: string;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    const project = await makeProject(handle.db, SLUG);
    const { actor: agent } = await makeAgent(handle.db, project.id, "scout");
    const person = await makePerson(handle.db, "viewer@example.com", "admin");
    viewer = person.actor;
    token = person.secret;
    useDatabase(handle);
    await ingestEvents(handle.db, agent, {
      events: [
        {
          id: "first",
          sessionId: "run-1",
          type: "message",
          time: "2026-11-30T08:00:00.000Z",
        },
        {
          id: "second",
          sessionId: "run-1",
          type: "message",
          time: "2026-11-30T08:00:01.000Z",
        },
      ],
    });
  });
  afterAll(async () => {
    useDatabase(null);
    await handle.close();
  });

  describe("sessions list", () => {
    it.each([
      "-000001-01-01T00:00:00.000Z",
      "+275760-09-13T00:00:00.000Z",
      "0000-01-01T00:00:00.000Z",
      "1969-12-31T23:59:59.999Z",
    ])("refuses a cursor at %s as invalid input", async (at) => {
      const refused = await refusal(() =>
        listSessions(handle.db, viewer, {
          project: SLUG,
          cursor: listCursor(at),
        }),
      );
      expect(refused).toMatchObject({ code: "invalid_input" });
      expect(refused.fields).toEqual(["cursor"]);
    });

    it.each([
      ["from", "-000001-01-01"],
      ["from", "0000-01-01"],
      ["from", "+275760-09-13"],
      ["to", "+275760-09-13"],
      ["to", "9999-12-31T23:00:00-05:00"],
    ])("refuses %s = %s, naming the field", async (field, value) => {
      const refused = await refusal(() =>
        listSessions(handle.db, viewer, { project: SLUG, [field]: value }),
      );
      expect(refused.code).toBe("invalid_input");
      expect(refused.details).toContainEqual({
        path: field,
        message: "Must be a date between 1970 and 9999",
      });
    });

    it("answers a range spanning every allowed year, and its own cursors", async () => {
      const all = await listSessions(handle.db, viewer, {
        project: SLUG,
        from: "1970-01-01",
        to: "9999-12-31T23:59:59.999Z",
      });
      expect(all.sessions.map((s) => s.externalId)).toEqual(["run-1"]);

      // A cursor the list wrote still reads (nothing after the only row).
      const cursor = listCursor(
        all.sessions[0].lastEventAt.toISOString(),
        all.sessions[0].id,
      );
      const next = await listSessions(handle.db, viewer, {
        project: SLUG,
        cursor,
      });
      expect(next.sessions).toEqual([]);
    });
  });

  describe("session timeline", () => {
    it.each([
      "2026-99-99T99:99:99.000000Z",
      "2026-02-30T10:00:00.000000Z",
      "2026-11-30T24:00:00.000000Z",
      "0000-01-01T00:00:00.000000Z",
    ])("refuses a cursor at %s as invalid input", async (at) => {
      const refused = await refusal(() =>
        listSessionEvents(handle.db, viewer, {
          project: SLUG,
          sessionId: "run-1",
          cursor: timelineCursor(at),
        }),
      );
      expect(refused.code).toBe("invalid_input");
      expect(refused.fields).toEqual(["cursor"]);
    });

    it("still pages with the cursors it hands out", async () => {
      const first = await listSessionEvents(handle.db, viewer, {
        project: SLUG,
        sessionId: "run-1",
        limit: 1,
      });
      expect(first.nextCursor).not.toBeNull();
      const second = await listSessionEvents(handle.db, viewer, {
        project: SLUG,
        sessionId: "run-1",
        limit: 1,
        cursor: first.nextCursor,
      });
      expect(
        [...first.events, ...second.events].map((e) => e.eventKey),
      ).toEqual(["first", "second"]);
    });
  });

  describe("spend overview", () => {
    it.each([
      ["from", { from: "0000-01-01", to: "0000-01-02" }],
      ["from", { from: "1969-12-31", to: "1970-01-02" }],
      ["to", { from: "9999-12-30", to: "9999-12-31" }],
      ["to", { from: "9999-12-30", to: "10000-01-01" }],
    ])("refuses a range naming %s: %j", async (field, range) => {
      const refused = await refusal(() =>
        spendOverview(handle.db, viewer, { project: SLUG, ...range }),
      );
      expect(refused.code).toBe("invalid_input");
      expect(refused.fields).toContain(field);
    });

    it("says why a range cannot end on 9999-12-31", async () => {
      const refused = await refusal(() =>
        spendOverview(handle.db, viewer, {
          project: SLUG,
          from: "9999-12-20",
          to: "9999-12-31",
        }),
      );
      expect(refused.message).toContain("9999-12-30 or earlier");
    });

    it("answers the first and last days a range may cover", async () => {
      const early = await spendOverview(handle.db, viewer, {
        project: SLUG,
        from: "1970-01-01",
        to: "1970-01-10",
      });
      expect(early).toMatchObject({ from: "1970-01-01", to: "1970-01-10" });
      const late = await spendOverview(handle.db, viewer, {
        project: SLUG,
        from: "9999-12-20",
        to: "9999-12-30",
      });
      expect(late).toMatchObject({
        from: "9999-12-20",
        to: "9999-12-30",
        rangeEnd: "9999-12-31T00:00:00.000Z",
      });
    });
  });

  describe("GET /api/v1/projects/{slug}/spend", () => {
    async function spend(query: string) {
      const response = await getSpend(
        new Request(`http://localhost/api/v1/projects/${SLUG}/spend?${query}`, {
          headers: { authorization: `Bearer ${token}` },
        }),
        { params: Promise.resolve({ slug: SLUG }) },
      );
      const body = (await response.json()) as {
        from?: string;
        to?: string;
        error?: { code: string; details: { path: string }[] };
      };

      return { status: response.status, body };
    }

    it("refuses a range ending past 9999 with 400 naming to", async () => {
      const late = await spend("from=9999-12-01&to=9999-12-31");
      expect(late.status).toBe(400);
      expect(late.body.error?.code).toBe("invalid_input");
      expect(late.body.error?.details.map((d) => d.path)).toContain("to");
    });

    it("answers a range ending on the last day allowed", async () => {
      const late = await spend("from=9999-12-01&to=9999-12-30");
      expect(late.status).toBe(200);
      expect(late.body.to).toBe("9999-12-31T00:00:00.000Z");
    });

    it("refuses a time bound past 9999 with 400", async () => {
      const late = await spend("to=%2B275760-09-13T00:00:00.000Z");
      expect(late.status).toBe(400);
    });
  });

  it("gives the console BAD_REQUEST, not a server error", async () => {
    const trpc = createCaller({ db: handle.db, actor: viewer });
    await expect(
      trpc.observability.sessions.list({
        project: SLUG,
        cursor: listCursor("+275760-09-13T00:00:00.000Z"),
      }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(
      trpc.observability.sessions.list({ project: SLUG, to: "0000-01-01" }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(
      trpc.observability.spendOverview({
        project: SLUG,
        from: "9999-12-30",
        to: "9999-12-31",
      }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(
      trpc.observability.spend({
        project: SLUG,
        from: "9999-12-01",
        to: "9999-12-31",
      }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});
