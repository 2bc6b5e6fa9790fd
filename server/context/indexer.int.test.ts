import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { auditLog, contextDocuments } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeProject } from "@/tests/fixtures";
import { indexDirectory, indexDocuments } from "./indexer";

// Files the index cannot take as they are: each is skipped or indexed with
// a warning, by name, and the rest of the run completes.

const cli: Actor = { kind: "cli", label: "cli:test" };

const laughs = [
  "---",
  'a0: &a0 ["lol"]',
  ...Array.from(
    { length: 6 },
    (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(",")}]`,
  ),
  "---",
  "# Laughs",
  "",
].join("\n");

/** 60 good files, then the bad ones written over some of them. */
async function writeFolder(root: string) {
  for (let i = 0; i < 60; i++) {
    const name = `f${String(i).padStart(2, "0")}.md`;
    await fs.writeFile(path.join(root, name), `# File ${i}\n\nText ${i}.\n`);
  }
  await fs.writeFile(path.join(root, "f55.md"), "# Nul\n\nbefore\0after\n");
  await fs.writeFile(
    path.join(root, "f12.md"),
    '---\ntitle: "\\0"\n---\n# Twelve\n',
  );
  await fs.writeFile(path.join(root, "f20.md"), laughs);
  await fs.writeFile(
    path.join(root, "f30.md"),
    Buffer.from([...Buffer.from("# Latin\n\ncaf"), 0xe9, 0x0a]),
  );
  await fs.writeFile(
    path.join(root, "f40.md"),
    "---\ntitle: [oops\n---\n# A\n",
  );
  await fs.symlink(path.join(root, "f01.md"), path.join(root, "link.md"));
}

describe.each(testKinds)("indexing problem files on %s", (kind) => {
  let handle: DatabaseHandle;
  let dir: string;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "flotilla-index-"));
    await writeFolder(dir);
  });
  afterAll(async () => {
    await handle.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("skips or warns about each bad file by name and indexes the rest", async () => {
    const project = await makeProject(handle.db);
    const summary = await indexDirectory(handle.db, cli, {
      project: project.slug,
      dir,
    });

    expect(summary).toMatchObject({ filesSeen: 60, indexed: 59 });
    expect(summary.skipped).toEqual([
      { path: "f55.md", problem: expect.stringMatching(/NUL/) },
      { path: "link.md", problem: expect.stringMatching(/symbolic link/) },
    ]);
    expect(summary.warnings.map((w) => w.path)).toEqual([
      "f12.md",
      "f20.md",
      "f30.md",
      "f40.md",
    ]);
    expect(summary.warnings[0].problem).toMatch(/front matter.*NUL/);
    expect(summary.warnings[1].problem).toMatch(/expands to more than/);
    expect(summary.warnings[2].problem).toMatch(/not valid UTF-8/);
    expect(summary.warnings[3].problem).toMatch(/front matter ignored/);

    const documents = await handle.db
      .select({
        path: contextDocuments.path,
        title: contextDocuments.title,
        frontMatter: contextDocuments.frontMatter,
      })
      .from(contextDocuments)
      .where(eq(contextDocuments.projectId, project.id));
    expect(documents).toHaveLength(59);
    const byPath = new Map(documents.map((d) => [d.path, d]));
    expect(byPath.get("f12.md")).toMatchObject({
      title: "Twelve",
      frontMatter: {},
    });
    expect(byPath.get("f20.md")?.frontMatter).toEqual({});
    expect(byPath.get("f59.md")?.title).toBe("File 59");

    const [audit] = await handle.db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.projectId, project.id),
          eq(auditLog.action, "context.index"),
        ),
      );
    expect(audit.details).toMatchObject({
      indexed: 59,
      skipped: summary.skipped,
    });
  });

  it("skips uploads the database could not store, by name", async () => {
    const project = await makeProject(handle.db);
    const summary = await indexDocuments(handle.db, cli, {
      project: project.slug,
      files: [
        { path: "good.md", content: "# Good\n" },
        { path: "nul.md", content: "# Nul\n\0" },
        { path: "half.md", content: "# Half \ud83d\n" },
        { path: "name\0.md", content: "# Name\n" },
      ],
    });

    expect(summary.indexed).toBe(1);
    expect(summary.skipped.map((s) => s.path)).toEqual([
      "half.md",
      "name\ufffd.md",
      "nul.md",
    ]);
    expect(summary.skipped[0].problem).toMatch(/unpaired UTF-16 surrogate/);
  });

  it("skips a file the database refuses and names it", async () => {
    const project = await makeProject(handle.db);
    // One paragraph of distinct words: its search vector passes
    // PostgreSQL's 1 MB limit, so the insert fails with this file alone.
    const words = Array.from(
      { length: 150_000 },
      (_, i) => `w${i.toString(36)}x`,
    );
    const summary = await indexDocuments(handle.db, cli, {
      project: project.slug,
      files: [
        { path: "a.md", content: "# A\n" },
        { path: "huge.md", content: `# Huge\n\n${words.join(" ")}\n` },
        { path: "z.md", content: "# Z\n" },
      ],
    });

    expect(summary.indexed).toBe(2);
    expect(summary.skipped).toEqual([
      {
        path: "huge.md",
        problem: expect.stringMatching(/^the database refused it: /),
      },
    ]);
    expect(JSON.stringify(summary.skipped)).not.toContain("w1x");
  }, 60_000);
});
