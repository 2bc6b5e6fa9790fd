import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { agents, auditLog, contextLookups } from "@/db/schema";
import { createCaller } from "@/server/api/root";
import type { Actor } from "@/server/identity/actor";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import { GET as contextRoute } from "@/app/api/agent/v1/context/route";
import { answerQuestion } from "./answer";
import { listDocuments } from "./documents";
import { indexDirectory, indexDocuments } from "./indexer";

// The context layer as its users meet it: a folder indexed incrementally,
// questions answered with one section or an honest no-answer, every lookup
// logged, and the same answers through tRPC and the agent API.

const cli: Actor = { kind: "cli", label: "cli:test" };

const caching = `---
title: Caching
---

Next.js caches data and rendered output.

## Revalidation

Cached data can be refreshed over time or on demand.

### revalidateTag

Call \`revalidateTag(tag)\` inside a Server Action to purge every fetch
tagged with that tag. The next request fetches fresh data.

\`\`\`js
# this is a comment, not a heading
revalidateTag('posts')
\`\`\`

### revalidatePath

Call \`revalidatePath(path)\` to purge the cached page at a path.
`;

const fonts = `# Fonts

Load Google fonts with next/font without layout shift.

## Local fonts

Use next/font/local with a src path to a woff2 file.
`;

const images = `# Images

The Image component resizes and lazy-loads pictures.

## Remote patterns

Allow remote hosts with images.remotePatterns in next.config.js.
`;

async function writeTree(root: string, files: Record<string, string>) {
  for (const [file, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await fs.writeFile(path.join(root, file), content);
  }
}

async function callRoute(query: string, token?: string) {
  const response = await contextRoute(
    new Request(`http://test/api/agent/v1/context${query}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    }),
    { params: Promise.resolve({}) },
  );

  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
  };
}

describe.each(testKinds)("context on %s", (kind) => {
  let handle: DatabaseHandle;
  let dir: string;
  let slug: string;
  let projectId: string;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "flotilla-context-"));
    await writeTree(dir, {
      "caching.md": caching,
      "guides/fonts.mdx": fonts,
      "guides/images.md": images,
      "notes.txt": "not markdown",
      ".hidden/secret.md": "# Hidden\n",
    });
    const project = await makeProject(handle.db);
    slug = project.slug;
    projectId = project.id;
  });
  afterAll(async () => {
    useDatabase(null);
    await handle.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("indexes a folder, then only what changed", async () => {
    const seen: number[] = [];
    const first = await indexDirectory(
      handle.db,
      cli,
      { project: slug, dir },
      (p) => seen.push(p.done),
    );
    expect(first).toMatchObject({
      filesSeen: 3,
      indexed: 3,
      unchanged: 0,
      removed: 0,
      sections: 8,
    });
    expect(first.tokens).toBeGreaterThan(50);
    expect(seen).toEqual([1, 2, 3]);

    const again = await indexDirectory(handle.db, cli, { project: slug, dir });
    expect(again).toMatchObject({ indexed: 0, unchanged: 3, removed: 0 });

    await fs.writeFile(
      path.join(dir, "guides/fonts.mdx"),
      `${fonts}\n## Variable fonts\n\nPrefer variable fonts.\n`,
    );
    await fs.rm(path.join(dir, "guides/images.md"));
    const changed = await indexDirectory(handle.db, cli, {
      project: slug,
      dir,
    });
    expect(changed).toMatchObject({
      filesSeen: 2,
      indexed: 1,
      unchanged: 1,
      removed: 1,
      sections: 3,
    });

    const documents = await listDocuments(handle.db, cli, { project: slug });
    expect(
      documents.map((d) => [d.path, d.title, d.sections, d.status]),
    ).toEqual([
      ["caching.md", "Caching", 4, "canonical"],
      ["guides/fonts.mdx", "Fonts", 3, "canonical"],
    ]);
    const audits = await handle.db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.projectId, projectId),
          eq(auditLog.action, "context.index"),
        ),
      );
    expect(audits).toHaveLength(3);
  });

  it("refuses a missing folder with a field path", async () => {
    await expect(
      indexDirectory(handle.db, cli, {
        project: slug,
        dir: path.join(dir, "nope"),
      }),
    ).rejects.toMatchObject({
      code: "invalid_input",
      details: [{ path: "dir", message: "not a folder" }],
    });
  });

  it("answers with one section and logs the lookup", async () => {
    const { actor } = await makeUser(handle.db, "viewer");
    const answer = await answerQuestion(handle.db, actor, {
      project: slug,
      q: "how do I purge fetches by tag with revalidateTag?",
    });
    if (!answer.answered) throw new Error(`no answer: ${answer.reason}`);
    expect(answer).toMatchObject({
      path: "caching.md",
      heading: "revalidateTag",
      headingPath: "Caching > Revalidation > revalidateTag",
      line: 11,
      status: "canonical",
    });
    expect(answer.text).toContain("# this is a comment, not a heading");
    expect(answer.tokens).toBeGreaterThan(10);
    expect(answer.tokens).toBeLessThan(answer.documentTokens);
    expect(answer.alternatives.length).toBeLessThanOrEqual(3);
    expect(answer.alternatives[0]).not.toHaveProperty("text");

    const [logged] = await handle.db
      .select()
      .from(contextLookups)
      .where(eq(contextLookups.userId, actor.userId));
    expect(logged).toMatchObject({
      answered: true,
      agentId: null,
      servedTokens: answer.tokens,
      documentTokens: answer.documentTokens,
      sectionId: answer.sectionId,
    });
  });

  it("says no answer when the docs never mention the topic", async () => {
    const answer = await answerQuestion(handle.db, cli, {
      project: slug,
      q: "How do I configure Kubernetes ingress for gRPC?",
    });
    expect(answer.answered).toBe(false);
    if (answer.answered) return;
    expect(answer.reason).toMatch(/kubernetes/);
    const rows = await handle.db
      .select()
      .from(contextLookups)
      .where(eq(contextLookups.answered, false));
    expect(rows.some((r) => r.query.includes("Kubernetes"))).toBe(true);
  });

  it("serves the agent API: 200 answer, 200 no-answer, 400, 401, 403", async () => {
    const { agent, secret } = await makeAgent(handle.db, projectId);
    const hit = await callRoute(
      `?q=${encodeURIComponent("local fonts woff2 file")}`,
      secret,
    );
    expect(hit.status).toBe(200);
    expect(hit.body).toMatchObject({
      answered: true,
      path: "guides/fonts.mdx",
      heading: "Local fonts",
      line: 5,
    });
    const [logged] = await handle.db
      .select()
      .from(contextLookups)
      .where(eq(contextLookups.agentId, agent.id));
    expect(logged?.answered).toBe(true);

    const miss = await callRoute("?q=terraform%20modules", secret);
    expect(miss.status).toBe(200);
    expect(miss.body).toMatchObject({ answered: false });

    const empty = await callRoute("?q=", secret);
    expect(empty.status).toBe(400);
    expect(empty.body).toMatchObject({
      error: {
        code: "invalid_input",
        details: [
          { path: "q", message: "Must not be empty: the question to answer" },
        ],
      },
    });
    const missing = await callRoute("", secret);
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({
      error: {
        details: [{ path: "q", message: "Required: the question to answer" }],
      },
    });
    const long = await callRoute(`?q=${"a".repeat(1001)}`, secret);
    expect(long.status).toBe(400);
    expect(long.body).toMatchObject({
      error: {
        details: [{ path: "q", message: "Must be at most 1000 characters" }],
      },
    });

    expect((await callRoute("?q=fonts")).status).toBe(401);

    await handle.db
      .update(agents)
      .set({ status: "paused" })
      .where(eq(agents.id, agent.id));
    expect((await callRoute("?q=fonts", secret)).status).toBe(403);
  });

  it("serves the console through tRPC; viewers may not upload", async () => {
    const operator = await makeUser(handle.db, "operator");
    const caller = createCaller({ db: handle.db, actor: operator.actor });
    const summary = await caller.context.upload({
      project: slug,
      files: [
        { path: "uploads/deploy.md", content: "# Deploy\n\nUse Docker.\n" },
      ],
    });
    expect(summary).toMatchObject({ indexed: 1, removed: 0, sections: 1 });
    const documents = await caller.context.documents({ project: slug });
    expect(documents.map((d) => d.path)).toContain("uploads/deploy.md");
    // An upload adds documents; it never removes the indexed folder's.
    expect(documents.map((d) => d.path)).toContain("caching.md");
    const answer = await caller.context.search({
      project: slug,
      q: "deploy with docker",
    });
    expect(answer).toMatchObject({ answered: true, path: "uploads/deploy.md" });

    const viewer = await makeUser(handle.db, "viewer");
    const readOnly = createCaller({ db: handle.db, actor: viewer.actor });
    await expect(
      readOnly.context.upload({
        project: slug,
        files: [{ path: "x.md", content: "# X\n" }],
      }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(
      caller.context.upload({
        project: slug,
        files: [{ path: "../escape.md", content: "# X\n" }],
      }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("indexes files in batches larger than one insert", async () => {
    const project = await makeProject(handle.db);
    const files = Array.from({ length: 120 }, (_, i) => ({
      path: `bulk/doc-${i}.md`,
      content: `# Doc ${i}\n\n${Array.from(
        { length: 6 },
        (_, j) => `## Part ${j}\n\nText ${i}-${j}.\n`,
      ).join("\n")}`,
    }));
    const summary = await indexDocuments(handle.db, cli, {
      project: project.slug,
      files,
    });
    expect(summary).toMatchObject({ indexed: 120, sections: 840 });
  });

  it("says when nothing is indexed, rather than that no document mentions the words", async () => {
    const project = await makeProject(handle.db);
    const ask = (includeStale?: boolean) =>
      answerQuestion(handle.db, cli, {
        project: project.slug,
        q: "how do I revalidate a cache tag",
        includeStale,
      });
    expect(await ask()).toMatchObject({
      answered: false,
      reason: expect.stringMatching(/^Nothing is indexed in this project yet/),
    });

    // Only a stale document: the default answer has nothing current to
    // search, and says how to search the stale one.
    await indexDocuments(handle.db, cli, {
      project: project.slug,
      files: [
        {
          path: "old.md",
          content:
            "---\nstatus: deprecated\n---\n# Cache tags\n\nRevalidate a tag.\n",
        },
      ],
    });
    expect(await ask()).toMatchObject({
      answered: false,
      reason: expect.stringMatching(/^No current document .*include_stale/),
    });
    expect(await ask(true)).toMatchObject({ answered: true, path: "old.md" });
  });
});
