import fs from "node:fs";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as hookRoute } from "@/app/api/agent/v1/hooks/claude-code/route";
import { GET as checkRoute } from "@/app/api/agent/v1/reservations/check/route";
import { POST as releaseRoute } from "@/app/api/agent/v1/reservations/[id]/release/route";
import { POST as renewRoute } from "@/app/api/agent/v1/reservations/[id]/renew/route";
import {
  GET as listRoute,
  POST as reserveRoute,
} from "@/app/api/agent/v1/reservations/route";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { events, tasks } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { newId, now } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject } from "@/tests/fixtures";
import { createGoal } from "./goals";
import { createTask } from "./tasks";

// The reservation API and Claude Code's PreToolUse as an agent meets them:
// status codes, bodies, and an edit of another agent's file denied with
// the holder's name.

const cli: Actor = { kind: "cli", label: "cli:test" };

type Handler = (
  request: Request,
  context: { params: Promise<Record<string, string>> },
) => Promise<Response>;

async function call(
  handler: Handler,
  token: string,
  options: { method?: string; url?: string; id?: string; body?: unknown },
) {
  const method = options.method ?? "POST";
  const params: Record<string, string> = options.id ? { id: options.id } : {};
  const response = await handler(
    new Request(`http://test${options.url ?? "/api/agent/v1/reservations"}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
      },
      body:
        method === "GET" || options.body === undefined
          ? undefined
          : JSON.stringify(options.body),
    }),
    { params: Promise.resolve(params) },
  );
  const text = await response.text();

  return {
    status: response.status,
    body: (text ? JSON.parse(text) : null) as Record<string, any>,
  };
}

interface HookLine {
  hook_event_name: string;
  tool_name?: string;
  [field: string]: unknown;
}

const hookLines = fs
  .readFileSync(
    path.resolve(
      process.cwd(),
      "..",
      "shared",
      "cases",
      "hooks",
      "session-basic.jsonl",
    ),
    "utf8",
  )
  .split("\n")
  .filter((line) => line.trim() !== "")
  .map((line) => JSON.parse(line) as HookLine);

/** The case's PreToolUse body for `tool`, with a fresh tool_use_id. */
function preToolUse(tool: string, change: Partial<HookLine> = {}): HookLine {
  const found = hookLines.find(
    (line) => line.hook_event_name === "PreToolUse" && line.tool_name === tool,
  );
  if (!found) throw new Error(`no PreToolUse for ${tool} in the case`);

  return { ...found, tool_use_id: `toolu_${newId()}`, ...change };
}

async function decide(token: string, body: HookLine) {
  const { status, body: answer } = await call(hookRoute, token, {
    url: "/api/agent/v1/hooks/claude-code",
    body,
  });
  expect(status).toBe(200);

  return answer.hookSpecificOutput as {
    permissionDecision: string;
    permissionDecisionReason?: string;
  };
}

describe.each(testKinds)("reservation API on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
  });
  afterAll(async () => {
    useDatabase(null);
    await handle.close();
  });

  async function setup() {
    const db = handle.db;
    const project = await makeProject(db);
    const alpha = await makeAgent(db, project.id, "alpha");
    const beta = await makeAgent(db, project.id, "beta");

    return { db, project, alpha, beta };
  }

  it("reserves, lists, renews and releases over HTTP", async () => {
    const { alpha } = await setup();

    const reserved = await call(reserveRoute, alpha.secret, {
      body: { globs: ["src/api/**"], ttlSeconds: 120, reason: "rename" },
    });
    expect(reserved).toMatchObject({
      status: 200,
      body: {
        granted: true,
        conflicts: [],
        reservation: {
          globs: ["src/api/**"],
          mode: "exclusive",
          ttlSeconds: 120,
          agent: { name: "alpha" },
        },
      },
    });
    const id = reserved.body.reservation.id as string;

    const listed = await call(listRoute, alpha.secret, { method: "GET" });
    expect(listed.body.reservations.map((r: { id: string }) => r.id)).toEqual([
      id,
    ]);
    const renewed = await call(renewRoute, alpha.secret, {
      id,
      url: `/api/agent/v1/reservations/${id}/renew`,
      body: { ttlSeconds: 600 },
    });
    expect(renewed).toMatchObject({
      status: 200,
      body: { reservation: { id, ttlSeconds: 600 } },
    });
    const released = await call(releaseRoute, alpha.secret, {
      id,
      url: `/api/agent/v1/reservations/${id}/release`,
    });
    expect(released).toMatchObject({
      status: 200,
      body: { released: true, reservation: { id } },
    });
    expect(typeof released.body.reservation.releasedAt).toBe("string");
  });

  it("answers a conflict with 200, granted false and the holder", async () => {
    const { alpha, beta } = await setup();
    const first = await call(reserveRoute, beta.secret, {
      body: { globs: ["src/**"] },
    });

    const refused = await call(reserveRoute, alpha.secret, {
      body: { globs: ["src/api/x.ts"] },
    });

    expect(refused).toMatchObject({
      status: 200,
      body: {
        granted: false,
        reservation: null,
        conflicts: [
          {
            kind: "reservation",
            holder: "beta",
            reservationId: first.body.reservation.id,
            globs: ["src/**"],
            mode: "exclusive",
            expiresAt: first.body.reservation.expiresAt,
          },
        ],
      },
    });
    expect(refused.body.message).toContain("held by agent beta");
  });

  it("refuses bad input with 400 and a stranger's renew or release with 409", async () => {
    const { alpha, beta } = await setup();
    const bad = await call(reserveRoute, alpha.secret, {
      body: { globs: [], mode: "private" },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(
      ["globs", "mode"],
    );

    const theirs = await call(reserveRoute, beta.secret, {
      body: { globs: ["docs/**"] },
    });
    const id = theirs.body.reservation.id as string;
    for (const [handler, action] of [
      [renewRoute, "renew"],
      [releaseRoute, "release"],
    ] as const) {
      const refused = await call(handler, alpha.secret, {
        id,
        url: `/api/agent/v1/reservations/${id}/${action}`,
      });
      expect(refused).toMatchObject({
        status: 409,
        body: {
          error: {
            code: "conflict",
            details: { holder: "beta", status: "live" },
          },
        },
      });
      expect(refused.body.error.message).toBe(
        `Reservation ${id} (docs/**) is held by agent beta, not by you; ` +
          `only its holder may ${action} it`,
      );
    }
    const notUuid = await call(renewRoute, alpha.secret, {
      id: "nope",
      url: "/api/agent/v1/reservations/nope/renew",
    });
    expect(notUuid.status).toBe(400);
  });

  it("checks repeated path parameters and names the holder", async () => {
    const { alpha, beta } = await setup();
    await call(reserveRoute, beta.secret, { body: { globs: ["src/*.ts"] } });

    const checked = await call(checkRoute, alpha.secret, {
      method: "GET",
      url: "/api/agent/v1/reservations/check?path=src/x.ts&path=src/api/x.ts",
    });
    expect(checked.status).toBe(200);
    expect(
      checked.body.paths.map(
        (p: { path: string; held: boolean; holds: { holder: string }[] }) => [
          p.path,
          p.held,
          p.holds.map((h) => h.holder),
        ],
      ),
    ).toEqual([
      ["src/x.ts", true, ["beta"]],
      ["src/api/x.ts", false, []],
    ]);

    const one = await call(checkRoute, alpha.secret, {
      method: "GET",
      url: "/api/agent/v1/reservations/check?path=src/y.ts",
    });
    expect(one.body.paths[0]).toMatchObject({ path: "src/y.ts", held: true });

    const none = await call(checkRoute, alpha.secret, {
      method: "GET",
      url: "/api/agent/v1/reservations/check",
    });
    expect(none.status).toBe(400);
    expect(none.body.error.details[0].path).toBe("path");
  });

  it("denies Claude Code an edit of a file another agent holds", async () => {
    const { db, project, alpha, beta } = await setup();
    const reserved = await call(reserveRoute, beta.secret, {
      body: { globs: ["src/routes/**"], reason: "pagination" },
    });
    const reservationId = reserved.body.reservation.id as string;

    // The case edits /work/shop-api/src/routes/orders.ts from the cwd
    // /work/shop-api.
    const edit = await decide(alpha.secret, preToolUse("Edit"));
    expect(edit.permissionDecision).toBe("deny");
    expect(edit.permissionDecisionReason).toContain(
      "src/routes/orders.ts is held by another agent: exclusive reservation " +
        `${reservationId} held by agent beta (src/routes/**, until`,
    );
    const [stored] = await db
      .select({ status: events.status, output: events.output })
      .from(events)
      .where(
        and(eq(events.projectId, project.id), eq(events.toolName, "Edit")),
      );
    expect(stored).toMatchObject({
      status: "denied",
      output: { rule: `reservation:${reservationId}` },
    });

    // Reading it is fine, and so are the holder's own edits.
    expect(
      (await decide(alpha.secret, preToolUse("Read"))).permissionDecision,
    ).toBe("allow");
    expect(
      (await decide(beta.secret, preToolUse("Edit"))).permissionDecision,
    ).toBe("allow");
    // A file elsewhere, and a file outside the session's folder, are free.
    expect(
      (await decide(alpha.secret, preToolUse("Write"))).permissionDecision,
    ).toBe("allow");
    const outside = preToolUse("Edit", {
      tool_input: { file_path: "/tmp/src/routes/orders.ts" },
    });
    expect((await decide(alpha.secret, outside)).permissionDecision).toBe(
      "allow",
    );

    // A task's scope holds its files too, named by the task's title.
    const goal = await createGoal(db, cli, {
      project: project.slug,
      title: "Docs",
    });
    const task = await createTask(db, cli, {
      goalId: goal.id,
      title: "Document orders",
      scope: ["docs/api/**"],
    });
    await db
      .update(tasks)
      .set({
        status: "claimed",
        holderAgentId: beta.agent.id,
        leaseId: newId(),
        leaseExpiresAt: new Date(now().getTime() + 300_000),
      })
      .where(eq(tasks.id, task.id));
    const write = await decide(alpha.secret, preToolUse("Write"));
    expect(write.permissionDecision).toBe("deny");
    expect(write.permissionDecisionReason).toContain(
      "docs/api/orders.md is held by another agent: task 'Document orders' " +
        "held by agent beta (docs/api/**, until",
    );
  });

  it("checks a path with '..' as the file it names, and stores an edit of a path it cannot check", async () => {
    const { db, project, alpha, beta } = await setup();
    await call(reserveRoute, beta.secret, {
      body: { globs: ["src/routes/**"] },
    });
    const around = preToolUse("Edit", {
      tool_input: {
        file_path: "/work/shop-api/zzz/../src/routes/orders.ts",
        old_string: "a",
        new_string: "b",
      },
    });
    expect((await decide(alpha.secret, around)).permissionDecision).toBe(
      "deny",
    );
    const fromAbove = preToolUse("Edit", {
      cwd: "/work/shop-api/src/..",
    });
    expect((await decide(alpha.secret, fromAbove)).permissionDecision).toBe(
      "deny",
    );

    // A NUL or a lone surrogate in the path: answered and stored all the
    // same, the hold check passed over.
    const odd = [
      "/work/shop-api/src/routes/a\u0000b.ts",
      "/work/shop-api/src/routes/a\ud800b.ts",
    ];
    const ids: string[] = [];
    for (const file of odd) {
      const body = preToolUse("Edit", {
        tool_input: { file_path: file, old_string: "a", new_string: "b" },
      });
      ids.push(body.tool_use_id as string);
      expect((await decide(alpha.secret, body)).permissionDecision).toBe(
        "allow",
      );
    }
    const stored = await db
      .select({ key: events.eventKey, status: events.status })
      .from(events)
      .where(
        and(eq(events.projectId, project.id), eq(events.toolName, "Edit")),
      );
    for (const id of ids) {
      expect(stored.map((row) => row.key).join(" ")).toContain(id);
    }
  });
});
