import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

// Every route file of the agent API, the read API, OTLP ingest, the MCP
// endpoint and the health check answers the methods it does not define
// itself: 405 in the usual error body with an Allow header, and OPTIONS
// with the same header. Next.js alone would answer 405 with an empty body,
// which an agent cannot read.

const appDir = path.resolve(import.meta.dirname, "../../app");
const methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

type Handler = (
  request: Request,
  context: { params: Promise<Record<string, string>> },
) => Promise<Response> | Response;

function routeFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (at: string) => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === "route.ts") found.push(full);
    }
  };
  walk(path.join(appDir, dir));

  return found.sort();
}

const files = [
  "api/agent/v1",
  "api/v1",
  "api/otlp/v1",
  "api/mcp",
  "api/health",
].flatMap(routeFiles);

describe("methods a route does not define", () => {
  it("finds the route files", () => {
    expect(files.length).toBeGreaterThan(30);
    const names = files.map((file) => path.relative(appDir, file));
    expect(names).toContain(path.join("api", "mcp", "route.ts"));
    expect(names).toContain(path.join("api", "health", "route.ts"));
  });

  it.each(files.map((file) => [path.relative(appDir, file), file]))(
    "%s answers them in the usual error body with an Allow header",
    async (_, file) => {
      const source = fs.readFileSync(file, "utf8");
      const own = [
        ...source.matchAll(
          /export\s+(?:const|(?:async\s+)?function)\s+(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)\b/g,
        ),
      ].map(([, method]) => method);
      expect(own.length).toBeGreaterThan(0);
      const allow = [
        ...new Set([
          ...own,
          "OPTIONS",
          ...(own.includes("GET") ? ["HEAD"] : []),
        ]),
      ]
        .sort()
        .join(", ");
      const module = (await import(pathToFileURL(file).href)) as Record<
        string,
        Handler | undefined
      >;
      const url = `http://test/${path.relative(appDir, path.dirname(file))}`;
      const context = { params: Promise.resolve({}) };

      for (const method of methods) {
        if (own.includes(method)) continue;
        const handler = module[method];
        if (method === "HEAD" && own.includes("GET")) {
          // Next.js answers HEAD with the route's GET.
          expect(handler, `${method} ${url}`).toBeUndefined();
          continue;
        }
        if (!handler) {
          expect.fail(`${method} ${url} is not exported`);
        }
        const response = await handler(new Request(url, { method }), context);
        expect(response.headers.get("allow"), `${method} ${url}`).toBe(allow);
        if (method === "OPTIONS") {
          expect(response.status).toBe(204);
          continue;
        }
        expect(response.status, `${method} ${url}`).toBe(405);
        expect(await response.json()).toEqual({
          error: {
            code: "method_not_allowed",
            message: `${method} is not allowed on ${new URL(url).pathname}; it takes ${allow}`,
            details: { allow: allow.split(", ") },
          },
        });
      }
    },
  );
});
