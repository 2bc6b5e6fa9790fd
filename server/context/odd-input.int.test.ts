import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLoopbackServer, type LoopbackServer } from "@/client/testing";
import { queryRows, type DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import type { Actor } from "@/server/identity/actor";
import { openTestDatabase, testKinds } from "@/tests/db";
import { callTool } from "@/tests/mcp";
import { makeAgent, makeProject } from "@/tests/fixtures";
import { answerQuestion } from "./answer";
import { indexDocuments } from "./indexer";

// Careless and hostile input to a lookup, over HTTP on a loopback port and
// through the context_answer tool: identifiers with LIKE and regex
// characters, quotes, backslashes and control characters; headings and
// paths with spaces, emoji, right-to-left text and camelCase; a section of
// hundreds of thousands of characters; every odd spelling of `limit`; and
// front-matter statuses that are not text. Nothing may fail with a 500, and
// both databases must give the same answers.

const cli: Actor = { kind: "cli", label: "cli:test" };

const hugeBody = Array.from(
  { length: 4000 },
  (_, i) => `Line ${i} pads the huge section about revalidatePath.`,
).join("\n");

const corpus: Record<string, string> = {
  "my docs/Getting Started.md": `# Getting Started

Install the package with npm and run the dev server.

## 100% coverage_report

The coverage_report option writes 100% of lines to \`coverage/lcov.info\`.

## C:\\Program Files\\app

Windows installs go to \`C:\\Program Files\\app\` by default.
`,
  "my docs/Ünïcode folder/Größe ändern.md": `# Größe ändern

Die Größe eines Bildes ändern Sie mit \`resizeImage()\`.

## हिन्दी गाइड

resizeImage का उपयोग करें।
`,
  "apiReference/getServerSideProps/fetchData.mdx": `---
title: fetchData
---
# fetchData

Use \`getServerSideProps\` to fetch data on each request.

## \`context.params\` and \`req.query\`

\`context.params\` holds the dynamic route params; \`req.query\` the query string.

## 'quoted' "heading" <script>alert(1)</script>

An odd heading with quotes and a script tag in it, and text under it.

## 🚀 Emoji launch 🚀

Launch the rocket with emoji in headings.

## שלום עולם (RTL)

Right to left text in a heading about cookies.
`,
  "guides/huge.md": `# Huge section

## revalidatePath everywhere

${hugeBody}
`,
  "guides/percent.md": `# Percent_and_underscore

## like%pattern and under_score

Matching like%pattern needs escaping; under_score too. A backslash \\ too.

## ()

Just parentheses.
`,
};

const questions = [
  "how do I get 100% coverage_report",
  "coverage_report 100%",
  "like%pattern",
  "like%pattern()",
  "under_score",
  "%_%",
  "%%%%%% under_score",
  "\\",
  "\\\\ backslash",
  "C:\\Program Files\\app install",
  "O'Reilly's \"quoted\" heading",
  "'quoted' \"heading\" <script>alert(1)</script>",
  "()",
  "() () ()",
  "context.params",
  "req.query context.params",
  "getServerSideProps fetchData",
  "apiReference/getServerSideProps/fetchData.mdx",
  "my docs/Getting Started.md",
  "Größe ändern resizeImage()",
  "हिन्दी गाइड",
  "🚀 emoji launch",
  "🚀🚀🚀",
  "שלום עולם cookies",
  "\u202eevil rtl override cookies",
  "revalidatePath everywhere",
  "huge section revalidatePath",
  "veryLongIdentifier".repeat(55),
  `a.${"b".repeat(900)}()`,
  "x\u0001y\u007f\u0008 control characters",
  "next/jest.config.js",
  "a/b/c/d/e/f/g/h/i/j",
  "..//..//",
  "$1 $$ $& ${x} revalidatePath",
  "select * from context_sections; -- like%pattern",
  "Ⅻ chapter",
  "İstanbul",
];

interface Asked {
  q: string;
  status: number;
  answered?: boolean;
  path?: string;
  headingPath?: string;
  alternatives?: string[];
}

/** What each database answered, to compare once both have run. */
const answersByKind = new Map<string, Asked[]>();

describe.each(testKinds)("odd input to a lookup on %s", (kind) => {
  let handle: DatabaseHandle;
  let server: LoopbackServer;
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
    server = await startLoopbackServer();
  });
  afterAll(async () => {
    await server.close();
    useDatabase(null);
    await handle.close();
  });

  /** GET /api/agent/v1/context with a raw query string. */
  const get = async (query: string) => {
    const response = await fetch(
      `${server.url}/api/agent/v1/context?${query}`,
      {
        headers: { authorization: `Bearer ${secret}` },
      },
    );

    return {
      status: response.status,
      body: (await response.json()) as Record<string, unknown>,
    };
  };

  /** Calls the context_answer tool over MCP as an agent would. */
  const tool = (args: Record<string, unknown>) =>
    callTool(secret, "context_answer", args);

  it("answers or abstains on odd identifiers, headings and paths, never failing", async () => {
    const asked: Asked[] = [];
    for (const q of questions) {
      const { status, body } = await get(`q=${encodeURIComponent(q)}`);
      expect({ q, status }).toEqual({ q, status: 200 });
      expect(typeof body.answered).toBe("boolean");
      asked.push({
        q,
        status,
        answered: body.answered as boolean,
        path: body.path as string | undefined,
        headingPath: body.headingPath as string | undefined,
        alternatives: (
          (body.alternatives ?? []) as Array<{
            path: string;
            headingPath: string;
          }>
        ).map((a) => `${a.path} # ${a.headingPath}`),
      });
    }
    answersByKind.set(kind, asked);
    const byQuestion = new Map(asked.map((a) => [a.q, a]));
    // Spot checks that the odd parts are found, not just survived.
    expect(byQuestion.get("like%pattern")).toMatchObject({
      answered: true,
      path: "guides/percent.md",
      headingPath: "Percent_and_underscore > like%pattern and under_score",
    });
    expect(byQuestion.get("C:\\Program Files\\app install")).toMatchObject({
      answered: true,
      headingPath: "Getting Started > C:\\Program Files\\app",
    });
    expect(byQuestion.get("req.query context.params")).toMatchObject({
      answered: true,
      path: "apiReference/getServerSideProps/fetchData.mdx",
    });
    expect(byQuestion.get("huge section revalidatePath")).toMatchObject({
      answered: true,
      path: "guides/huge.md",
    });
    expect(byQuestion.get("🚀 emoji launch")).toMatchObject({
      answered: true,
      headingPath: "fetchData > 🚀 Emoji launch 🚀",
    });
    expect(byQuestion.get("%_%")).toMatchObject({ answered: false });
  });

  it("answers the same odd questions through the context_answer tool", async () => {
    for (const q of ["like%pattern", "()", "\\", "🚀 emoji launch"]) {
      const result = await tool({ q, tier: "pointer" });
      expect({ q, isError: result.isError ?? false }).toEqual({
        q,
        isError: false,
      });
    }
  });

  it("refuses every odd spelling of limit over HTTP with the field at fault", async () => {
    const refused = [
      "0",
      "6",
      "-1",
      "-0",
      "1.5",
      "5%20",
      "%205",
      "+5",
      "1e1",
      "0x5",
      "%EF%BC%95", // a full-width 5
      "99999999999999999999",
      "",
      "5%00",
      "1,2",
    ];
    for (const limit of refused) {
      const { status, body } = await get(`q=servers&limit=${limit}`);
      expect({ limit, status }).toEqual({ limit, status: 400 });
      expect(body).toMatchObject({
        error: {
          code: "invalid_input",
          details: [{ path: "limit", message: expect.any(String) }],
        },
      });
    }
    // Given twice, as a list, or under another name: refused, named.
    for (const [query, path] of [
      ["limit=1&limit=2", "limit"],
      ["limit[]=1", "limit[]"],
      ["limit[0]=1", "limit[0]"],
      ["Limit=1", "Limit"],
    ]) {
      const { status, body } = await get(`q=servers&${query}`);
      expect({ query, status }).toEqual({ query, status: 400 });
      expect(body).toMatchObject({
        error: {
          code: "invalid_input",
          details: [expect.objectContaining({ path })],
        },
      });
    }
    // A leading zero is still a decimal number.
    const padded = await get("q=revalidatePath&limit=05");
    expect(padded.status).toBe(200);
    expect((padded.body.alternatives as unknown[]).length).toBeLessThan(5);
  });

  it("refuses every odd limit over MCP with the field at fault", async () => {
    const refused: unknown[] = [
      0,
      6,
      -1,
      1.5,
      10,
      1e308,
      "5",
      "05",
      null,
      [1],
      { value: 1 },
      true,
    ];
    for (const limit of refused) {
      const result = await tool({ q: "servers", limit });
      expect({ limit, isError: result.isError }).toEqual({
        limit,
        isError: true,
      });
      expect(result.content[0].text).toMatch(/^invalid_input: .*limit/);
      const details = result.structuredContent?.error?.details ?? [];
      expect(details.length).toBeGreaterThan(0);
      for (const detail of details) expect(detail.path).toBe("limit");
    }
    // 5.0 is the number 5 once it is JSON.
    const five = await tool({ q: "revalidatePath", limit: 5.0 });
    expect(five.isError ?? false).toBe(false);
  });

  it("ranks a heading in a script with vowel signs as pg_trgm measures it", async () => {
    // Two sections that differ only in their heading's other words: the
    // question resembles "Deploy on AWS" more by pg_trgm's measure (its
    // other words are fewer trigrams than the Hindi words, each of which
    // is one word with its vowel signs, not a run of single letters).
    const project = await makeProject(handle.db);
    const text =
      "Deploy the app with one command and check the logs afterwards.";
    await indexDocuments(handle.db, cli, {
      project: project.slug,
      source: "docs",
      files: [
        { path: "hi/deploy.md", content: `# Deploy — कैसे करें\n\n${text}\n` },
        { path: "aws/deploy.md", content: `# Deploy on AWS\n\n${text}\n` },
      ],
    });
    const [row] = await queryRows<{ hindi: number; aws: number }>(
      handle.db,
      sql`select similarity('deploy', 'Deploy — कैसे करें')::float8 as hindi,
                 similarity('deploy', 'Deploy on AWS')::float8 as aws`,
    );
    expect(Number(row.aws)).toBeGreaterThan(Number(row.hindi));
    for (const q of ["deploy", "how do I deploy"]) {
      expect(
        await answerQuestion(handle.db, cli, { project: project.slug, q }),
      ).toMatchObject({ answered: true, path: "aws/deploy.md" });
    }
  });

  it("indexes front-matter statuses of every shape and explains them as text", async () => {
    const project = await makeProject(handle.db);
    const statuses: Record<string, string> = {
      emoji: `${"a".repeat(79)}🎉🎉`,
      long: "x".repeat(5000),
      object: "{a: 1, b: [2, 3]}",
      list: "[canonical, stale]",
      boolean: "true",
      date: "2024-01-02",
      multiline: "|\n  retired\n  second line",
      html: '"<script>alert(1)</script><img src=x onerror=alert(2)>"',
      rtl: '"\\u202eevil"',
      control: '"a\\x01b"',
      infinite: "-.inf",
      empty: '""',
    };
    const summary = await indexDocuments(handle.db, cli, {
      project: project.slug,
      source: "statuses",
      files: Object.entries(statuses).map(([name, value]) => ({
        path: `${name}.md`,
        content: `---\nstatus: ${value}\n---\n# ${name}\n\nText about ${name}.\n`,
      })),
    });
    expect(summary.indexed).toBe(Object.keys(statuses).length);
    const rows = await queryRows<{
      path: string;
      status: string;
      reason: string | null;
    }>(
      handle.db,
      sql`select path, status, status_reason as reason
            from context_documents
           where project_id = ${project.id}
           order by path`,
    );
    const reasons = new Map(rows.map((r) => [r.path, r.reason ?? ""]));
    for (const r of rows)
      expect({ path: r.path, status: r.status }).toEqual({
        path: r.path,
        status: "canonical",
      });
    expect(reasons.get("emoji.md")).toMatch(
      /^declared status ignored \(status: a{79}🎉\): it is not a known status/,
    );
    expect(reasons.get("emoji.md")).not.toContain("\uFFFD");
    expect(reasons.get("html.md")).toContain(
      "(status: <script>alert(1)</script><img src=x onerror=alert(2)>)",
    );
    expect(reasons.get("long.md")).toMatch(/\(status: x{80}\)/);
    expect(reasons.get("object.md")).toMatch(/it is an object, not a known/);
    expect(reasons.get("list.md")).toMatch(/it is a list, not a known/);
    expect(reasons.get("boolean.md")).toMatch(/it is true\/false, not a known/);
  });
});

describe.runIf(testKinds.length > 1)("odd input on both databases", () => {
  it("gives the same answers on PGlite and PostgreSQL", () => {
    expect(answersByKind.get("postgres")).toEqual(answersByKind.get("pglite"));
  });
});
