import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refuseTunnel, refuseUnroutableMethods } from "./methods.mjs";

// The console's own HTTP server refuses a method no route file can export
// (TRACE, PROPFIND, ...) before Next.js sees it, with the Allow header of
// the route asked for. Next.js stands in here as a handler that answers
// OPTIONS the way route handlers do.

const routes: Record<string, string> = {
  "/api/mcp": "OPTIONS, POST",
  "/api/health": "GET, HEAD, OPTIONS",
};

function send(port: number, method: string, path: string) {
  return new Promise<{
    status: number;
    allow: string | undefined;
    body: string;
  }>((resolve, reject) => {
    const request = http.request(
      { host: "127.0.0.1", port, method, path },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            allow: response.headers.allow,
            body,
          }),
        );
      },
    );
    request.on("error", reject);
    request.end();
  });
}

describe("methods no route can take", () => {
  const seen: string[] = [];
  const warnings: unknown[] = [];
  let server: http.Server;
  let port: number;

  beforeAll(async () => {
    const routed = (
      request: http.IncomingMessage,
      response: http.ServerResponse,
    ) => {
      seen.push(`${request.method} ${request.url}`);
      const allow = routes[request.url ?? ""];
      if (request.method === "OPTIONS" && allow) {
        response.writeHead(204, { allow }).end();
      } else if (request.method === "OPTIONS") {
        response.writeHead(400).end();
      } else {
        response.writeHead(200).end("routed");
      }
    };
    server = http.createServer(
      refuseUnroutableMethods(routed, {
        logger: { warn: (fields: unknown) => warnings.push(fields) },
      }),
    );
    server.on(
      "connect",
      refuseTunnel({
        logger: { warn: (fields: unknown) => warnings.push(fields) },
      }),
    );
    await new Promise<void>((resolve) =>
      server.listen(0, "127.0.0.1", () => resolve()),
    );
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it.each(["TRACE", "PROPFIND", "PURGE"])(
    "answers %s with 405, the API's error body and the route's Allow",
    async (method) => {
      const answer = await send(port, method, "/api/mcp?tools=all");
      expect(answer.status).toBe(405);
      expect(answer.allow).toBe("OPTIONS, POST");
      expect(JSON.parse(answer.body)).toEqual({
        error: {
          code: "method_not_allowed",
          message:
            `${method} is not allowed on /api/mcp; it takes ` + "OPTIONS, POST",
          details: { allow: ["OPTIONS", "POST"] },
        },
      });
      expect(warnings).toContainEqual({
        method,
        route: "/api/mcp",
        status: 405,
      });
    },
  );

  it("names what a page takes where the path answers no OPTIONS", async () => {
    const answer = await send(port, "TRACE", "/projects/shop");
    expect(answer.status).toBe(405);
    expect(answer.allow).toBe("GET, HEAD, POST");
  });

  it("answers CONNECT with 405 rather than dropping the connection", async () => {
    const answer = await new Promise<{ status: number; body: string }>(
      (resolve, reject) => {
        const request = http.request({
          host: "127.0.0.1",
          port,
          method: "CONNECT",
          path: "example.test:443",
        });
        request.on("connect", (response, socket, head) => {
          let body = head.toString("utf8");
          socket.setEncoding("utf8");
          socket.on("data", (chunk: string) => (body += chunk));
          socket.on("end", () =>
            resolve({ status: response.statusCode ?? 0, body }),
          );
        });
        request.on("error", reject);
        request.end();
      },
    );
    expect(answer.status).toBe(405);
    expect(JSON.parse(answer.body)).toMatchObject({
      error: { code: "method_not_allowed" },
    });
  });

  it("hands every method a route can export to Next.js", async () => {
    seen.length = 0;
    for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"]) {
      expect((await send(port, method, "/api/health")).body).toBe("routed");
    }
    expect(seen).toEqual([
      "GET /api/health",
      "POST /api/health",
      "PUT /api/health",
      "PATCH /api/health",
      "DELETE /api/health",
    ]);
  });
});
