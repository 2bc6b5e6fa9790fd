import { eq } from "drizzle-orm";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { apiTokens } from "@/db/schema";
import { GET as approvalsList } from "@/app/api/agent/v1/approvals/route";
import { GET as contextAnswer } from "@/app/api/agent/v1/context/route";
import { GET as goalsList } from "@/app/api/agent/v1/goals/route";
import { GET as pathsCheck } from "@/app/api/agent/v1/reservations/check/route";
import { GET as sessionRead } from "@/app/api/v1/projects/[slug]/sessions/[id]/route";
import { notFound } from "@/server/errors";
import { logger } from "@/server/log";
import { setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import {
  makeAgent,
  makeProject,
  makeUser,
  revokeToken,
} from "@/tests/fixtures";
import { agentRoute, personRoute } from "./http";

const echo = agentRoute({
  body: z.object({ title: z.string().min(1), count: z.number().int() }),
  maxBodyBytes: 200,
  handler: async ({ actor, body }) => ({ agent: actor.agentName, body }),
});
const missing = agentRoute({
  handler: async () => {
    throw notFound("Task", "abc");
  },
});
const crash = agentRoute({
  handler: async () => {
    throw new Error("secret internal detail");
  },
});
const refused = agentRoute({
  handler: async () => {
    // What a driver throws when PostgreSQL refuses a value.
    throw Object.assign(new Error("Failed query"), {
      cause: Object.assign(new Error("date/time field value out of range"), {
        code: "22008",
      }),
    });
  },
});
const byPath = agentRoute({
  handler: async ({ params }) => ({ params }),
});
const whoAmI = personRoute({
  handler: async ({ actor }) => ({ email: actor.email }),
});

const params = { params: Promise.resolve({}) };

function post(
  token: string | null,
  body: string,
  headers: Record<string, string> = {},
) {
  return new Request("http://test/api/agent/v1/echo", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: token } : {}),
      ...headers,
    },
    body,
  });
}

describe.each(testKinds)("agent and person routes on %s", (kind) => {
  let handle: DatabaseHandle;
  let agentSecret: string;
  let personSecret: string;
  let agentTokenId: string;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    const project = await makeProject(handle.db);
    const agent = await makeAgent(handle.db, project.id, "builder");
    agentSecret = agent.secret;
    agentTokenId = agent.token.id;
    personSecret = (await makeUser(handle.db)).secret;
  });
  afterAll(async () => {
    useDatabase(null);
    await handle.close();
  });

  async function call(request: Request, route = echo) {
    const response = await route(request, params);

    return { status: response.status, body: await response.json() };
  }

  it("passes a valid request to the handler with the agent's identity", async () => {
    const result = await call(
      post(`Bearer ${agentSecret}`, JSON.stringify({ title: "x", count: 2 })),
    );
    expect(result).toEqual({
      status: 200,
      body: { agent: "builder", body: { title: "x", count: 2 } },
    });
  });

  it.each([
    [null, 401, "Missing Authorization header"],
    ["Basic abc", 401, "Bearer scheme"],
    ["Bearer nope", 401, "start with flt_"],
    ["Bearer flt_doesnotexist", 401, "Unknown token"],
  ])("answers %s with %i", async (header, status, message) => {
    const result = await call(post(header, "{}"));
    expect(result.status).toBe(status);
    expect(result.body.error.code).toBe("unauthenticated");
    expect(result.body.error.message).toContain(message);
  });

  it("refuses a personal token on the agent API and vice versa", async () => {
    const agentSide = await call(post(`Bearer ${personSecret}`, "{}"));
    expect(agentSide.status).toBe(403);
    const personSide = await call(
      new Request("http://test/api/v1/me", {
        headers: { authorization: `Bearer ${agentSecret}` },
      }),
      whoAmI,
    );
    expect(personSide.status).toBe(403);
    expect(personSide.body.error.message).toContain("personal access token");
  });

  it("lists every invalid field with its path", async () => {
    const result = await call(
      post(`Bearer ${agentSecret}`, JSON.stringify({ title: "", count: 1.5 })),
    );
    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe("invalid_input");
    const paths = result.body.error.details.map(
      (d: { path: string }) => d.path,
    );
    expect(paths).toEqual(["title", "count"]);
  });

  it("answers malformed JSON with 400 and an oversized body with 413", async () => {
    const bad = await call(post(`Bearer ${agentSecret}`, "{not json"));
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("not valid JSON");
    const big = await call(
      post(
        `Bearer ${agentSecret}`,
        JSON.stringify({ title: "x".repeat(300), count: 1 }),
      ),
    );
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe("payload_too_large");
    expect(big.body.error.message).toMatch(
      /^Request body is \d+ bytes; the limit is 200 bytes$/,
    );
  });

  it("maps domain errors through the error table and hides our own faults", async () => {
    const lost = await call(post(`Bearer ${agentSecret}`, ""), missing);
    expect(lost).toEqual({
      status: 404,
      body: {
        error: {
          code: "not_found",
          message: "Task abc was not found",
          details: null,
        },
      },
    });
    const fault = await call(post(`Bearer ${agentSecret}`, ""), crash);
    expect(fault.status).toBe(500);
    expect(JSON.stringify(fault.body)).not.toContain("secret internal detail");
  });

  it("reads gzip and deflate bodies and refuses other encodings", async () => {
    const json = JSON.stringify({ title: "zipped", count: 3 });
    for (const [encoding, encode] of [
      ["gzip", zlib.gzipSync],
      ["deflate", zlib.deflateSync],
    ] as const) {
      const request = new Request("http://test/api/agent/v1/echo", {
        method: "POST",
        headers: {
          authorization: `Bearer ${agentSecret}`,
          "content-type": "application/json",
          "content-encoding": encoding,
        },
        body: encode(Buffer.from(json)),
      });
      const result = await call(request);
      expect(result.status).toBe(200);
      expect(result.body.body).toEqual({ title: "zipped", count: 3 });
    }
    const brotli = await call(
      post(`Bearer ${agentSecret}`, "{}", { "content-encoding": "br" }),
    );
    expect(brotli.status).toBe(415);
    expect(brotli.body.error.message).toContain("Content-Encoding 'br'");
  });

  it("refuses a gzip body that inflates past the limit with 413", async () => {
    const bomb = zlib.gzipSync(
      Buffer.from(JSON.stringify({ title: "x".repeat(5000), count: 1 })),
    );
    expect(bomb.byteLength).toBeLessThan(200);
    const result = await call(
      new Request("http://test/api/agent/v1/echo", {
        method: "POST",
        headers: {
          authorization: `Bearer ${agentSecret}`,
          "content-encoding": "gzip",
        },
        body: bomb,
      }),
    );
    expect(result.status).toBe(413);
    expect(result.body.error.message).toBe(
      "Request body is over 200 bytes when decompressed; the limit is 200 bytes",
    );
  });

  it("names a field holding a NUL character instead of failing", async () => {
    const result = await call(
      post(
        `Bearer ${agentSecret}`,
        JSON.stringify({ title: "a\u0000b", count: 1 }),
      ),
    );
    expect(result.status).toBe(400);
    expect(result.body.error.details).toEqual([
      {
        path: "title",
        message: "must not contain NUL or unpaired surrogate characters",
      },
    ]);

    const response = await byPath(
      new Request("http://test/x", {
        headers: { authorization: `Bearer ${agentSecret}` },
      }),
      { params: Promise.resolve({ id: "a\u0000b" }) },
    );
    expect(response.status).toBe(400);
    expect((await response.json()).error.details[0].path).toBe("id");
  });

  it("answers a value the database refuses with 400, not 500", async () => {
    const result = await call(post(`Bearer ${agentSecret}`, ""), refused);
    expect(result.status).toBe(400);
    expect(result.body.error.message).toContain("date or time is out of range");
  });

  it("reads a JSON body that starts with a UTF-8 byte-order mark", async () => {
    const json = JSON.stringify({ title: "from Windows", count: 1 });
    const result = await call(post(`Bearer ${agentSecret}`, `\uFEFF${json}`));
    expect(result).toEqual({
      status: 200,
      body: { agent: "builder", body: { title: "from Windows", count: 1 } },
    });
    const zipped = await call(
      new Request("http://test/api/agent/v1/echo", {
        method: "POST",
        headers: {
          authorization: `Bearer ${agentSecret}`,
          "content-encoding": "gzip",
        },
        body: zlib.gzipSync(Buffer.from(`\uFEFF${json}`)),
      }),
    );
    expect(zipped.status).toBe(200);
    // Only one mark is dropped; a second is still not JSON.
    const twice = await call(
      post(`Bearer ${agentSecret}`, `\uFEFF\uFEFF${json}`),
    );
    expect(twice.status).toBe(400);
  });

  function get(path: string, secret = agentSecret) {
    return new Request(`http://test${path}`, {
      headers: { authorization: `Bearer ${secret}` },
    });
  }

  it.each([
    ["0x2"],
    ["1e0"],
    ["%202"],
    ["2%20"],
    [""],
    ["2.0"],
    ["+2"],
    ["-1"],
    ["1_0"],
    ["\uFF12"],
    ["2&limit=3"],
  ])(
    "refuses limit=%s on the context route, naming the parameter",
    async (limit) => {
      const result = await call(
        get(`/api/agent/v1/context?q=deploy&limit=${limit}`),
        contextAnswer,
      );
      expect(result.status).toBe(400);
      expect(result.body.error.code).toBe("invalid_input");
      expect(result.body.error.details).toEqual([
        { path: "limit", message: expect.any(String) },
      ]);
      expect(result.body.error.message).toContain("limit: ");
    },
  );

  it("reads a decimal limit on every route that takes one", async () => {
    const context = await call(
      get("/api/agent/v1/context?q=deploy&limit=2"),
      contextAnswer,
    );
    expect(context.status).toBe(200);
    const approvals = await call(
      get("/api/agent/v1/approvals?limit=0x10"),
      approvalsList,
    );
    expect(approvals.status).toBe(400);
    expect(approvals.body.error.details[0].path).toBe("limit");
    expect(
      (await call(get("/api/agent/v1/approvals?limit=10"), approvalsList))
        .status,
    ).toBe(200);
    const session = await sessionRead(
      get("/api/v1/projects/p/sessions/s?limit=1e3", personSecret),
      { params: Promise.resolve({ slug: "p", id: "s" }) },
    );
    expect(session.status).toBe(400);
    expect((await session.json()).error.details[0].path).toBe("limit");
  });

  it("refuses a query parameter the route does not take, listing those it does", async () => {
    const misspelt = await call(
      get("/api/agent/v1/context?q=deploy&includeStale=true"),
      contextAnswer,
    );
    expect(misspelt.status).toBe(400);
    expect(misspelt.body.error).toEqual({
      code: "invalid_input",
      message:
        "Invalid query parameters: unknown 'includeStale'; this endpoint " +
        "takes q, limit, source, include_stale, tier",
      details: [
        {
          path: "includeStale",
          message:
            "Unknown query parameter; this endpoint takes q, limit, " +
            "source, include_stale, tier",
        },
      ],
    });
    const none = await call(
      new Request("http://test/api/agent/v1/echo?dry_run=1", {
        method: "POST",
        headers: { authorization: `Bearer ${agentSecret}` },
        body: JSON.stringify({ title: "x", count: 1 }),
      }),
    );
    expect(none.status).toBe(400);
    expect(none.body.error.details).toEqual([
      {
        path: "dry_run",
        message:
          "Unknown query parameter; this endpoint takes no query parameters",
      },
    ]);
    const spelt = await call(
      get("/api/agent/v1/context?q=deploy&include_stale=true"),
      contextAnswer,
    );
    expect(spelt.status).toBe(200);
  });

  it.each([
    ["/api/agent/v1/context?q=a&q=b", contextAnswer, ["q"]],
    [
      "/api/agent/v1/context?q=deploy&tier=section&tier=document",
      contextAnswer,
      ["tier"],
    ],
    [
      "/api/agent/v1/context?q=deploy&limit=1&limit=2",
      contextAnswer,
      ["limit"],
    ],
    [
      "/api/agent/v1/context?q=a&tier=section&q=b&tier=document",
      contextAnswer,
      ["q", "tier"],
    ],
    ["/api/agent/v1/goals?status=active&status=done", goalsList, ["status"]],
    [
      "/api/agent/v1/approvals?status=pending&status=pending",
      approvalsList,
      ["status"],
    ],
  ])(
    "refuses a parameter given twice that takes one value: %s",
    async (path, route, names) => {
      const result = await call(get(path), route);
      expect(result.status).toBe(400);
      expect(result.body.error).toEqual({
        code: "invalid_input",
        message: `Invalid query parameters: ${names
          .map((name) => `${name}: Give this parameter once`)
          .join("; ")}`,
        details: names.map((name) => ({
          path: name,
          message: "Give this parameter once",
        })),
      });
    },
  );

  it("reads a parameter given twice when it takes a list", async () => {
    const result = await call(
      get("/api/agent/v1/reservations/check?path=src/a.ts&path=src/b.ts"),
      pathsCheck,
    );
    expect(result.status).toBe(200);
  });

  it("cuts a long unknown parameter name short in the answer", async () => {
    const name = "x".repeat(5000);
    const result = await call(
      get(`/api/agent/v1/context?q=deploy&${name}=1`),
      contextAnswer,
    );
    expect(result.status).toBe(400);
    const shown = `${"x".repeat(60)}…`;
    const takes = "this endpoint takes q, limit, source, include_stale, tier";
    expect(result.body.error).toEqual({
      code: "invalid_input",
      message: `Invalid query parameters: unknown '${shown}'; ${takes}`,
      details: [{ path: shown, message: `Unknown query parameter; ${takes}` }],
    });
  });

  describe("a client that hangs up mid-request", () => {
    // What Node hands the request body when the connection drops.
    const hangUp = () =>
      Object.assign(new Error("aborted"), { code: "ECONNRESET" });

    function brokenOff(signal?: AbortSignal) {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"title":'));
          controller.error(hangUp());
        },
      });

      return new Request("http://test/api/agent/v1/echo", {
        method: "POST",
        headers: {
          authorization: `Bearer ${agentSecret}`,
          "content-type": "application/json",
        },
        body,
        signal,
        duplex: "half",
      } as RequestInit);
    }

    it.each([
      ["the connection closed", true],
      ["the close not yet seen", false],
    ])(
      "is logged as aborted, not as the database down (%s)",
      async (_, closed) => {
        const connection = new AbortController();
        if (closed) connection.abort();
        const errors = vi.spyOn(logger, "error");
        const infos = vi.spyOn(logger, "info");
        try {
          const response = await echo(brokenOff(connection.signal), params);
          expect(response.status).toBe(499);
          expect((await response.json()).error.code).toBe("client_closed");
          expect(errors).not.toHaveBeenCalled();
          expect(infos).toHaveBeenCalledWith(
            expect.objectContaining({ status: 499, method: "POST" }),
            "request aborted by the client",
          );
        } finally {
          errors.mockRestore();
          infos.mockRestore();
        }
      },
    );

    it("is logged as aborted when it hangs up while the route works", async () => {
      const connection = new AbortController();
      const slow = agentRoute({
        handler: async () => {
          connection.abort();
          throw hangUp();
        },
      });
      const errors = vi.spyOn(logger, "error");
      try {
        const response = await slow(
          new Request("http://test/x", {
            headers: { authorization: `Bearer ${agentSecret}` },
            signal: connection.signal,
          }),
          params,
        );
        expect(response.status).toBe(499);
        expect(errors).not.toHaveBeenCalled();
      } finally {
        errors.mockRestore();
      }
    });
  });

  it("records when a token was last used", async () => {
    const [token] = await handle.db
      .select()
      .from(apiTokens)
      .where(eq(apiTokens.id, agentTokenId));
    expect(token.lastUsedAt).toBeInstanceOf(Date);
  });

  it("refuses an expired token with 401 and a revoked one with 403", async () => {
    const project = await makeProject(handle.db);
    const expiring = await makeAgent(handle.db, project.id);
    await handle.db
      .update(apiTokens)
      .set({ expiresAt: new Date(Date.now() + 60_000) })
      .where(eq(apiTokens.id, expiring.token.id));
    setClock(() => new Date(Date.now() + 120_000));
    try {
      const expired = await call(post(`Bearer ${expiring.secret}`, "{}"));
      expect(expired.status).toBe(401);
      expect(expired.body.error.message).toContain("expired");
    } finally {
      setClock(null);
    }

    await revokeToken(handle.db, expiring.token.id);
    const revoked = await call(post(`Bearer ${expiring.secret}`, "{}"));
    expect(revoked.status).toBe(403);
    expect(revoked.body.error.message).toContain("revoked");
  });
});

describe.each(testKinds)("routes when the database is gone, on %s", (kind) => {
  it("answer 503 with Retry-After", async () => {
    const handle = await openTestDatabase(kind);
    const project = await makeProject(handle.db);
    const { secret } = await makeAgent(handle.db, project.id);
    await handle.close();
    useDatabase(handle);
    const errors = vi.spyOn(logger, "error");
    try {
      const response = await echo(
        post(`Bearer ${secret}`, JSON.stringify({ title: "x", count: 1 })),
        params,
      );
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("5");
      expect((await response.json()).error.code).toBe("unavailable");
      expect(errors).toHaveBeenCalledWith(
        expect.anything(),
        "database unavailable",
      );
    } finally {
      errors.mockRestore();
      useDatabase(null);
    }
  });
});
