import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { GET } from "@/app/api/agent/v1/openapi.json/route";
import { OPENAPI_PATH } from "./openapi";

// The served document is structurally valid OpenAPI 3.1 and lists exactly
// the agent and read API routes that exist on disk, method by method.

const root = path.resolve(import.meta.dirname, "../..");
const methods = ["get", "post", "put", "patch", "delete"];

interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, unknown>;
    securitySchemes: Record<string, { type: string; scheme: string }>;
  };
}
interface Operation {
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required: boolean }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, unknown>;
}

async function loadDocument(): Promise<Document> {
  const response = GET();
  expect(response.status).toBe(200);

  return (await response.json()) as Document;
}

/** "METHOD /path/{param}" for every exported handler under `dir`. */
function routesOnDisk(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === "route.ts") {
        const source = fs.readFileSync(full, "utf8");
        const urlPath = `/${path.relative(path.join(root, "app"), current)}`
          .split(path.sep)
          .join("/")
          .replace(/\[(\w+)\]/g, "{$1}");
        const exported = source.matchAll(
          /export\s+(?:const|(?:async\s+)?function)\s+(GET|POST|PUT|PATCH|DELETE)\b/g,
        );
        for (const [, method] of exported) found.push(`${method} ${urlPath}`);
      }
    }
  };
  walk(path.join(root, dir));

  return found;
}

function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((item) => refsIn(item, out));
  else if (value && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) {
      if (key === "$ref" && typeof inner === "string") out.push(inner);
      else refsIn(inner, out);
    }
  }

  return out;
}

function resolve(document: Document, ref: string): unknown {
  expect(ref.startsWith("#/")).toBe(true);
  let current: unknown = document;
  for (const part of ref.slice(2).split("/")) {
    current = (current as Record<string, unknown> | undefined)?.[part];
  }

  return current;
}

describe("OpenAPI document", () => {
  it("is OpenAPI 3.1 with bearer security and resolvable refs", async () => {
    const document = await loadDocument();
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    const schemes = document.components.securitySchemes;
    expect(schemes.agentToken).toMatchObject({
      type: "http",
      scheme: "bearer",
    });
    expect(schemes.personToken).toMatchObject({
      type: "http",
      scheme: "bearer",
    });
    for (const [route, item] of Object.entries(document.paths)) {
      const operations = Object.keys(item).filter((k) => methods.includes(k));
      expect(operations.length, route).toBeGreaterThan(0);
      for (const name of operations) {
        const operation = item[name];
        expect(Object.keys(operation.responses).length).toBeGreaterThan(0);
        for (const requirement of operation.security ?? []) {
          for (const scheme of Object.keys(requirement)) {
            expect(schemes[scheme], `${name} ${route}`).toBeDefined();
          }
        }
        // Every {param} in the path is declared as a path parameter.
        const declared = (operation.parameters ?? [])
          .filter((p) => p.in === "path")
          .map((p) => p.name);
        const inPath = [...route.matchAll(/\{(\w+)\}/g)].map(([, n]) => n);
        expect(declared.sort()).toEqual(inPath.sort());
      }
    }
    const refs = refsIn(document);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) expect(resolve(document, ref), ref).toBeDefined();
  });

  it("lists exactly the routes that exist", async () => {
    const document = await loadDocument();
    const documented = Object.entries(document.paths).flatMap(([route, item]) =>
      Object.keys(item)
        .filter((k) => methods.includes(k))
        .map((method) => `${method.toUpperCase()} ${route}`),
    );
    const onDisk = [
      ...routesOnDisk("app/api/agent/v1"),
      ...routesOnDisk("app/api/v1"),
    ];
    expect(onDisk).toContain(`GET ${OPENAPI_PATH}`);
    expect(documented.sort()).toEqual(onDisk.sort());
  });

  it("documents inputs from the schemas the routes validate with", async () => {
    const document = await loadDocument();
    const claim = document.paths["/api/agent/v1/tasks/claim"].post;
    expect(claim.security).toEqual([{ agentToken: [] }]);
    expect(Object.keys(claim.responses)).toEqual(
      expect.arrayContaining(["200", "400", "401", "403", "429"]),
    );
    expect(document.components.schemas.ClaimInput).toMatchObject({
      type: "object",
      properties: {
        ttlSeconds: { type: "integer", minimum: 10 },
        count: { type: "integer", minimum: 1, maximum: 50 },
      },
    });
    expect(document.components.schemas.FailInput).toMatchObject({
      required: ["reason"],
    });
    expect(document.components.schemas.CreateTaskInput).toMatchObject({
      required: ["goalId", "title"],
      additionalProperties: false,
    });

    const context = document.paths["/api/agent/v1/context"].get;
    expect(context.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "q", in: "query", required: true }),
        expect.objectContaining({ name: "include_stale", required: false }),
      ]),
    );
    // Query numbers are documented as integers with their bounds and
    // default, and every operation may refuse an unknown parameter (400).
    const limits = (path: string) =>
      document.paths[path].get.parameters?.find((p) => p.name === "limit");
    expect(limits("/api/agent/v1/context")).toMatchObject({
      schema: { type: "integer", minimum: 1, maximum: 5 },
    });
    expect(limits("/api/agent/v1/approvals")).toMatchObject({
      schema: { type: "integer", minimum: 1, maximum: 200, default: 50 },
    });
    for (const item of Object.values(document.paths)) {
      for (const operation of Object.values(item)) {
        if (operation.security?.length) {
          expect(Object.keys(operation.responses)).toContain("400");
        }
      }
    }
    const spend = document.paths["/api/v1/projects/{slug}/spend"].get;
    expect(spend.security).toEqual([{ personToken: [] }]);
    expect(spend.parameters?.map((p) => p.name)).toEqual(
      expect.arrayContaining(["slug", "from", "to", "group_by", "format"]),
    );
    expect(document.components.schemas.EventBatch).toMatchObject({
      required: ["events"],
    });
    const openapi = document.paths[OPENAPI_PATH].get;
    expect(openapi.security).toEqual([]);
  });
});
