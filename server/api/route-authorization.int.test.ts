import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { setMemberRole } from "@/server/identity/projects";
import { cli } from "@/server/identity/test-fixtures";
import {
  claimNextTask,
  createGoal,
  createTask,
  reservePaths,
  sendDirective,
  submitPlan,
} from "@/server/orchestration";
import { newId } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import {
  makeAgent,
  makeProject,
  makeUser,
  revokeToken,
} from "@/tests/fixtures";
import type { RouteContract } from "./http";

// The HTTP routes' half of the role matrix. Every route file under
// app/api/v1 (people, personal access tokens) and app/api/agent/v1 (agents,
// agent tokens) is found on disk and each exported method called, so a new
// route is covered without editing this file; a person route also needs a
// row in `personRoutes` saying who may call it.

const appDir = path.resolve(import.meta.dirname, "../../app");

type Handler = ((
  request: Request,
  context: { params: Promise<Record<string, string>> },
) => Promise<Response>) & { contract?: RouteContract };

interface Route {
  /** "POST /api/v1/projects/[slug]/goals" */
  key: string;
  method: string;
  pattern: string;
  handler: Handler;
}

const methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];

async function routesUnder(dir: string): Promise<Route[]> {
  const found: Route[] = [];
  const walk = (at: string) => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === "route.ts") found.push(full as never);
    }
  };
  walk(path.join(appDir, dir));
  const routes: Route[] = [];
  for (const file of (found as unknown as string[]).sort()) {
    const pattern = `/${path.relative(appDir, path.dirname(file))}`;
    const module = (await import(pathToFileURL(file).href)) as Record<
      string,
      unknown
    >;
    for (const method of methods) {
      const handler = module[method] as Handler | undefined;
      // Methods a route refuses (405) and the public OpenAPI document
      // carry no contract: they need no token.
      if (handler?.contract) {
        routes.push({ key: `${method} ${pattern}`, method, pattern, handler });
      }
    }
  }

  return routes;
}

async function call(
  route: Route,
  params: Record<string, string>,
  options: { secret?: string; header?: string; body?: unknown } = {},
) {
  const url = `http://localhost${route.pattern.replace(
    /\[(\w+)\]/g,
    (_, name: string) => params[name] ?? "x",
  )}`;
  const headers: Record<string, string> = {
    "content-type": "application/json",
  };
  const authorization =
    options.header ?? (options.secret ? `Bearer ${options.secret}` : null);
  if (authorization) headers.authorization = authorization;
  const hasBody = route.method !== "GET" && route.method !== "DELETE";
  const response = await route.handler(
    new Request(url, {
      method: route.method,
      headers,
      body: hasBody ? JSON.stringify(options.body ?? {}) : undefined,
    }),
    { params: Promise.resolve(params) },
  );
  const text = await response.text();

  return { status: response.status, text };
}

type Need = "viewer" | "operator" | "admin";

/** Who may call each person route, and a body that passes validation. */
const personRoutes: Record<string, [Need, () => unknown]> = {
  "POST /api/v1/projects/[slug]/agents": [
    "admin",
    () => ({ name: `r-${newId().slice(0, 6)}` }),
  ],
  "POST /api/v1/projects/[slug]/goals": ["operator", () => ({ title: "G" })],
  "GET /api/v1/projects/[slug]/sessions/[id]": ["viewer", () => undefined],
  "GET /api/v1/projects/[slug]/spend": ["viewer", () => undefined],
};

/** Bodies that pass validation, for agent routes that need one. */
const validBodies: Record<string, unknown> = {
  "POST /api/agent/v1/goals/[id]/plans": {
    tasks: [{ key: "x", title: "x", scope: ["x/**"] }],
  },
  "POST /api/agent/v1/tasks/[id]/block": { reason: "stuck" },
  "PUT /api/agent/v1/tasks/[id]/dependencies": { dependsOn: [] },
  "POST /api/agent/v1/tasks/[id]/fail": { reason: "broken" },
};

const people = ["nonMember", "viewer", "operator", "admin"] as const;
const mayCall: Record<Need, readonly string[]> = {
  viewer: people,
  operator: ["operator", "admin"],
  admin: ["admin"],
};

describe.each(testKinds)("who may call each HTTP route, on %s", (kind) => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
  });
  afterAll(async () => {
    useDatabase(null);
    await handle.close();
  });

  it("person routes: a token below the needed role gets 403, none 401", async () => {
    const db = handle.db;
    const project = await makeProject(db);
    const tokens: Record<string, string> = {};
    for (const subject of people) {
      const person = await makeUser(db, "viewer");
      if (subject !== "nonMember") {
        await setMemberRole(db, cli, {
          project: project.slug,
          email: person.user.email,
          role: subject,
        });
      }
      tokens[subject] = person.secret;
    }
    const revoked = await makeUser(db, "admin");
    await revokeToken(db, revoked.token.id);
    const params = { slug: project.slug, id: newId() };

    const routes = await routesUnder("api/v1");
    const unlisted = routes
      .map((route) => route.key)
      .filter((key) => !(key in personRoutes));
    expect(unlisted, "person routes without a row in personRoutes").toEqual([]);
    const wrong: string[] = [];
    for (const route of routes) {
      expect(route.handler.contract?.auth).toBe("person");
      const [need, body] = personRoutes[route.key];
      const signedOut = await call(route, params, { body: body() });
      if (signedOut.status !== 401) {
        wrong.push(`${route.key}: no token got ${signedOut.status}`);
      }
      const gone = await call(route, params, {
        secret: revoked.secret,
        body: body(),
      });
      if (gone.status !== 403 || !gone.text.includes("was revoked")) {
        wrong.push(`${route.key}: a revoked token got ${gone.status}`);
      }
      for (const subject of people) {
        const { status } = await call(route, params, {
          secret: tokens[subject],
          body: body(),
        });
        const allowed = mayCall[need].includes(subject);
        if (allowed && (status === 401 || status === 403)) {
          wrong.push(`${route.key}: ${subject} should pass but got ${status}`);
        }
        if (!allowed && status !== 403) {
          wrong.push(`${route.key}: ${subject} should get 403, got ${status}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  }, 120_000);

  it("agent routes: missing, unknown, revoked, personal and other projects' tokens are refused", async () => {
    const db = handle.db;
    const home = await makeProject(db);
    const agent = await makeAgent(db, home.id, "home");
    const stranger = await makeAgent(db, (await makeProject(db)).id, "away");
    const gone = await makeAgent(db, home.id, "gone");
    await revokeToken(db, gone.token.id);
    const person = await makeUser(db, "admin");

    // Rows of the home project that the stranger's token names by id.
    const goal = await createGoal(db, cli, { project: home.slug, title: "G" });
    await createTask(db, cli, { goalId: goal.id, title: "t", scope: ["t/**"] });
    const claimed = await claimNextTask(db, agent.actor, {});
    const plan = await submitPlan(db, agent.actor, {
      goalId: goal.id,
      tasks: [{ key: "p", title: "planned", scope: ["p/**"] }],
    });
    const directive = await sendDirective(db, cli, {
      project: home.slug,
      agent: "home",
      body: "hi",
    });
    const reservation = await reservePaths(db, agent.actor, {
      globs: ["r/**"],
    });
    const ids: Record<string, string> = {
      tasks: claimed?.task.id ?? "",
      plans: (plan as { id: string }).id,
      goals: goal.id,
      directives: directive.id,
      reservations: (reservation as { reservation: { id: string } }).reservation
        .id,
    };

    const routes = (await routesUnder("api/agent/v1")).filter(
      (route) => route.handler.contract?.auth === "agent",
    );
    expect(routes.length).toBeGreaterThan(20);
    const wrong: string[] = [];
    const expectStatus = (
      what: string,
      route: Route,
      got: { status: number; text: string },
      statuses: number[],
      says: string,
    ) => {
      if (!statuses.includes(got.status) || !got.text.includes(says)) {
        wrong.push(`${route.key}: ${what} got ${got.status} ${got.text}`);
      }
    };
    for (const route of routes) {
      const section = route.pattern.split("/")[4] ?? "";
      const params = { id: ids[section] ?? newId() };
      expectStatus(
        "no token",
        route,
        await call(route, params),
        [401],
        "unauthenticated",
      );
      expectStatus(
        "an unknown token",
        route,
        await call(route, params, { secret: "flt_nottherightone" }),
        [401],
        "unauthenticated",
      );
      expectStatus(
        "a revoked token",
        route,
        await call(route, params, { secret: gone.secret }),
        [403],
        "was revoked",
      );
      expectStatus(
        "a personal token",
        route,
        await call(route, params, { secret: person.secret }),
        [403],
        "needs an agent token",
      );
      // Another project's agent cannot reach this project's rows: for it
      // they do not exist (404, which says no more than that).
      if (route.pattern.includes("[id]") && ids[section]) {
        const away = await call(route, params, {
          secret: stranger.secret,
          body: validBodies[route.key] ?? {},
        });
        if (![403, 404].includes(away.status)) {
          wrong.push(
            `${route.key}: another project's token got ${away.status}`,
          );
        }
        if (away.status < 300 || away.text.includes(home.slug)) {
          wrong.push(`${route.key}: another project's token saw ${away.text}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  }, 120_000);
});
