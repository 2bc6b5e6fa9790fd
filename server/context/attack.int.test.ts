import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { GET as contextRoute } from "@/app/api/agent/v1/context/route";
import type { Actor } from "@/server/identity/actor";
import { openTestDatabase, testKinds } from "@/tests/db";
import { callTool } from "@/tests/mcp";
import { makeAgent, makeProject } from "@/tests/fixtures";
import { answerQuestion } from "./answer";
import { indexDocuments } from "./indexer";

// Odd and hostile questions: words WordNet lists in odd ways, names in
// letters beyond ASCII, questions of hundreds of words, and bad
// parameters through the agent API and the context_answer tool.

const cli: Actor = { kind: "cli", label: "cli:test" };

const corpus = {
  "guides/styling.md": `# Styling

Style an application with global style sheets or CSS Modules.

## Global styles

Import a global style sheet in the root layout to style every route.
`,
  "guides/fonts.md": `# Fonts

## Google fonts

Fonts from Google are downloaded at build time.
`,
  "guides/caching.md": `# Caching

## Revalidating

Cached data is revalidated after a number of seconds.
`,
  "guides/regions.md": `# Regions

## Server regions

Servers run in Zürich and in Ōsaka, close to most visitors.
`,
  "guides/protocols.md": `# Protocols

## Server push

Servers push assets over HTTP² before the browser asks for them.
`,
};

describe.each(testKinds)("context layer under attack on %s", (kind) => {
  let handle: DatabaseHandle;
  let slug: string;
  let secret: string;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    const project = await makeProject(handle.db);
    slug = project.slug;
    await indexDocuments(handle.db, cli, {
      project: slug,
      source: "docs",
      files: Object.entries(corpus).map(([path, content]) => ({
        path,
        content,
      })),
    });
    ({ secret } = await makeAgent(handle.db, project.id));
  });
  afterAll(async () => {
    useDatabase(null);
    await handle.close();
  });

  const ask = (q: string) =>
    answerQuestion(handle.db, cli, { project: slug, q });

  describe("synonyms", () => {
    it("does not read a product named like an English word as a rarer sense of another", async () => {
      // WordNet lists "style" as a stylus in its eighth sense only.
      expect(await ask("stylus in the root layout")).toMatchObject({
        answered: false,
        reason: 'No document mentions "stylus"',
      });
    });

    it("counts a word as asked when the question also asks its synonym", async () => {
      expect(await ask("google fonts typeface")).toMatchObject({
        answered: true,
        path: "guides/fonts.md",
        heading: "Google fonts",
      });
    });

    it("answers or abstains on odd words, long ones and many at once", async () => {
      const absentWords = [
        "typeface",
        "prototype",
        "constructor",
        "playwright",
        "dockhand",
        "calamari",
        "breakwater",
        "vagabond",
        "stevedore",
        "sentinel",
      ];
      const questions = [
        "constructor",
        "__proto__ toString hasOwnProperty valueOf",
        "constructor prototype fonts",
        "type-face fonts",
        "typeface's google",
        "Ünïcödé typefaces",
        "e\u0301e\u0301e\u0301 fonts",
        "a".repeat(900),
        `${"x-".repeat(400)}y fonts`,
        // Hundreds of words, each absent and most with synonyms.
        Array.from({ length: 90 }, (_, i) => absentWords[i % 10] + "s")
          .join(" ")
          .slice(0, 1000),
      ];
      // All at once, as when the thesaurus is first read.
      const results = await Promise.all(questions.map(ask));
      for (const result of results) {
        expect(typeof result.answered).toBe("boolean");
      }
      expect(results[0]).toMatchObject({ answered: false });
      expect(results[5]).toMatchObject({ answered: false });
    });
  });

  describe("named products in letters beyond ASCII", () => {
    it("finds a name in the served section whatever its case", async () => {
      for (const q of [
        "which servers run in Zürich",
        "do the servers run close to Ōsaka",
        "are there servers in ZÜRICH",
      ]) {
        expect(await ask(q)).toMatchObject({
          answered: true,
          path: "guides/regions.md",
          heading: "Server regions",
        });
      }
    });

    it("finds a name that ends in a character other than a letter", async () => {
      // "²" is a digit to the question and no word character to
      // PostgreSQL's regular expressions.
      expect(await ask("do servers push assets over HTTP²")).toMatchObject({
        answered: true,
        path: "guides/protocols.md",
        heading: "Server push",
      });
    });

    it("abstains on a name no document has, however it is spelled", async () => {
      expect(await ask("do servers run in Genève")).toMatchObject({
        answered: false,
        reason: 'No document mentions "genève"',
      });
      // A name beside regex characters is no part of a pattern.
      expect(await ask("servers in Zürich.* or (Ōsaka|x)")).toMatchObject({
        answered: true,
        path: "guides/regions.md",
      });
    });
  });

  describe("through the agent API", () => {
    const call = async (query: string, token = secret) => {
      const response = await contextRoute(
        new Request(`http://test/api/agent/v1/context?${query}`, {
          headers: { authorization: `Bearer ${token}` },
        }),
        { params: Promise.resolve({}) },
      );

      return {
        status: response.status,
        body: (await response.json()) as Record<string, unknown>,
      };
    };

    it("refuses bad parameters with the field at fault", async () => {
      const cases: Array<[string, string]> = [
        ["q=caching%00", "q"],
        ["q=%20%20", "q"],
        [`q=${"a".repeat(1001)}`, "q"],
        ["q=fonts&q=caching", "q"],
        ["q=fonts&tier=", "tier"],
        ["q=fonts&tier=all", "tier"],
        ["q=fonts&include_stale=yes", "include_stale"],
        ["q=fonts&limit=6", "limit"],
        ["q=fonts&limit=0", "limit"],
        ["q=fonts&source=wiki", "source"],
        ["q=fonts&answer=yes", "answer"],
      ];
      for (const [query, path] of cases) {
        const { status, body } = await call(query);
        expect({ query, status }).toEqual({ query, status: 400 });
        expect(body).toMatchObject({
          error: {
            code: "invalid_input",
            details: [expect.objectContaining({ path })],
          },
        });
      }
    });

    it("refuses a missing or unknown token", async () => {
      expect((await call("q=fonts", "")).status).toBe(401);
      expect((await call("q=fonts", "flt_not_a_token")).status).toBe(401);
    });

    it("says no answer to a question with nothing to search", async () => {
      for (const q of ["!!! ??? ...", "the of and is", "%ED%A0%80", "%CC%81"]) {
        const { status, body } = await call(`q=${q}`);
        expect(status).toBe(200);
        expect(body).toMatchObject({
          answered: false,
          reason: "The question has no searchable words",
        });
      }
    });

    it("answers the longest question it takes", async () => {
      const q = `${"fonts google ".repeat(76)}fonts`.slice(0, 1000);
      const { status, body } = await call(`q=${encodeURIComponent(q)}`);
      expect(status).toBe(200);
      expect(body).toMatchObject({ answered: true, path: "guides/fonts.md" });
    });

    it("combines source, include_stale and tier", async () => {
      for (const tier of ["pointer", "section", "document"]) {
        for (const stale of ["true", "0"]) {
          const { status, body } = await call(
            `q=google%20fonts&source=docs&include_stale=${stale}&tier=${tier}`,
          );
          expect(status).toBe(200);
          expect(body).toMatchObject({
            answered: true,
            tier,
            path: "guides/fonts.md",
          });
        }
      }
    });
  });

  /** Calls the context_answer tool over MCP as an agent would. */
  const tool = (args: Record<string, unknown>) =>
    callTool(secret, "context_answer", args);

  it("refuses bad context_answer arguments over MCP with the field at fault", async () => {
    const good = await tool({ q: "google fonts", tier: "pointer" });
    expect(good.isError).toBeFalsy();
    expect(good.content[0].text).toMatch(/^Fonts > Google fonts/);
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ q: "caching\u0000" }, "q"],
      [{ q: "" }, "q"],
      [{ q: "x".repeat(1001) }, "q"],
      [{ q: "fonts", tier: "all" }, "tier"],
      [{ q: "fonts", includeStale: "true" }, "includeStale"],
      [{ q: "fonts", limit: 0 }, "limit"],
      [{ q: "fonts", limit: 6 }, "limit"],
      [{ q: "fonts", source: "wiki" }, "source"],
    ];
    for (const [args, path] of bad) {
      const result = await tool(args);
      expect(result.isError).toBe(true);
      expect(result.content[0].text).toMatch(/^invalid_input: /);
      expect(result.structuredContent?.error?.details).toEqual([
        expect.objectContaining({ path }),
      ]);
    }
  });

  it("takes the same limits over the agent API and MCP", async () => {
    const overHttp = async (limit: number) => {
      const response = await contextRoute(
        new Request(
          `http://test/api/agent/v1/context?q=servers&limit=${limit}`,
          { headers: { authorization: `Bearer ${secret}` } },
        ),
        { params: Promise.resolve({}) },
      );
      const body = (await response.json()) as {
        alternatives?: unknown[];
        error?: { message: string; details: unknown[] };
      };

      return { status: response.status, body };
    };
    // The answer and up to limit - 1 alternatives, 1 to 5 on both.
    for (const limit of [1, 5]) {
      const http = await overHttp(limit);
      expect({ limit, status: http.status }).toEqual({ limit, status: 200 });
      expect(http.body.alternatives?.length).toBeLessThan(limit);
      const mcp = await tool({ q: "servers", limit });
      expect({ limit, isError: mcp.isError ?? false }).toEqual({
        limit,
        isError: false,
      });
    }
    for (const limit of [0, 6]) {
      const http = await overHttp(limit);
      expect({ limit, status: http.status }).toEqual({ limit, status: 400 });
      expect(http.body.error?.message).toMatch(
        /limit: Must be at (least|most)/,
      );
      expect(http.body.error?.details).toEqual([
        { path: "limit", message: expect.stringMatching(/^Must be at/) },
      ]);
      const mcp = await tool({ q: "servers", limit });
      expect(mcp.isError).toBe(true);
      expect(mcp.content[0].text).toMatch(/^invalid_input: .*limit/);
      expect(mcp.structuredContent?.error?.details).toEqual([
        expect.objectContaining({ path: "limit" }),
      ]);
    }
  });
});
