import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import type { Actor } from "@/server/identity/actor";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeProject } from "@/tests/fixtures";
import { getDocument, listDocuments } from "./documents";
import { indexDirectory } from "./indexer";

// Indexing a folder inside a git working tree: each document's last change
// is its last commit (date and author); files with uncommitted changes or
// untracked fall back to the file time, and so does a folder without git.

const run = promisify(execFile);
const cli: Actor = { kind: "cli", label: "cli:test" };

async function commit(
  repo: string,
  message: string,
  author: string,
  date: string,
) {
  const email = `${author.split(" ")[0].toLowerCase()}@example.test`;
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: author,
    GIT_AUTHOR_EMAIL: email,
    GIT_COMMITTER_NAME: author,
    GIT_COMMITTER_EMAIL: email,
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_DATE: date,
  };
  await run("git", ["add", "-A"], { cwd: repo, env });
  await run("git", ["commit", "-q", "--no-gpg-sign", "-m", message], {
    cwd: repo,
    env,
  });
}

async function write(root: string, file: string, text: string) {
  await fs.mkdir(path.dirname(path.join(root, file)), { recursive: true });
  await fs.writeFile(path.join(root, file), text);
}

describe.each(testKinds)("git dates on %s", (kind) => {
  let handle: DatabaseHandle;
  let repo: string;
  let docs: string;
  let slug: string;

  const dates = async () => {
    const rows = await listDocuments(handle.db, cli, { project: slug });

    return Object.fromEntries(
      await Promise.all(
        rows.map(async (row) => {
          const doc = await getDocument(handle.db, cli, {
            project: slug,
            documentId: row.id,
          });

          return [
            row.path,
            {
              at: doc.modifiedAt?.toISOString(),
              by: doc.modifiedBy,
              from: doc.modifiedSource,
            },
          ];
        }),
      ),
    );
  };

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    repo = await fs.mkdtemp(path.join(os.tmpdir(), "flotilla-git-"));
    docs = path.join(repo, "docs");
    await run("git", ["init", "-q", repo]);
    await write(docs, "guide.md", "# Guide\n\nfirst text\n");
    await write(docs, "deep/setup page.md", "# Setup\n\nsteps\n");
    await write(repo, "outside.md", "# Outside\n");
    await commit(repo, "first", "Ada Lovelace", "2024-01-02T03:04:05Z");
    await write(docs, "guide.md", "# Guide\n\nsecond text\n");
    await commit(repo, "second", "Grace Hopper", "2024-03-04T05:06:07+02:00");
    slug = (await makeProject(handle.db)).slug;
  });
  afterAll(async () => {
    useDatabase(null);
    await handle.close();
    await fs.rm(repo, { recursive: true, force: true });
  });

  it("dates committed files by their last commit and its author", async () => {
    await write(
      docs,
      "deep/setup page.md",
      "# Setup\n\nedited, not committed\n",
    );
    await write(docs, "draft.md", "# Draft\n\nuntracked\n");
    const summary = await indexDirectory(handle.db, cli, {
      project: slug,
      dir: docs,
    });
    expect(summary.indexed).toBe(3);

    const byPath = await dates();
    expect(byPath["guide.md"]).toEqual({
      at: "2024-03-04T03:06:07.000Z",
      by: "Grace Hopper",
      from: "git",
    });
    const draft = await fs.stat(path.join(docs, "draft.md"));
    expect(byPath["draft.md"]).toEqual({
      at: draft.mtime.toISOString(),
      by: null,
      from: "file",
    });
    expect(byPath["deep/setup page.md"]).toMatchObject({
      by: null,
      from: "file",
    });
  });

  it("takes the commit's date when the same text is committed later", async () => {
    await commit(repo, "third", "Ada Lovelace", "2024-05-06T07:08:09Z");
    const summary = await indexDirectory(handle.db, cli, {
      project: slug,
      dir: docs,
    });
    // Nothing is sectioned again: only the dates moved.
    expect(summary).toMatchObject({ indexed: 0, unchanged: 3, redated: 2 });

    const byPath = await dates();
    expect(byPath["deep/setup page.md"]).toEqual({
      at: "2024-05-06T07:08:09.000Z",
      by: "Ada Lovelace",
      from: "git",
    });
    expect(byPath["guide.md"]?.by).toBe("Grace Hopper");
  });

  it("uses file times outside a repository and without git", async () => {
    const plain = await fs.mkdtemp(path.join(os.tmpdir(), "flotilla-plain-"));
    const savedPath = process.env.PATH;
    try {
      await write(plain, "note.md", "# Note\n\ntext\n");
      const other = (await makeProject(handle.db)).slug;
      await indexDirectory(handle.db, cli, { project: other, dir: plain });
      // No git on the PATH at all: the repository's files get file times.
      process.env.PATH = plain;
      await indexDirectory(handle.db, cli, {
        project: other,
        dir: docs,
        source: "nogit",
      });
      process.env.PATH = savedPath;

      const rows = await listDocuments(handle.db, cli, { project: other });
      expect(rows).toHaveLength(4);
      for (const row of rows) {
        const doc = await getDocument(handle.db, cli, {
          project: other,
          documentId: row.id,
        });
        expect(doc).toMatchObject({ modifiedSource: "file", modifiedBy: null });
      }
    } finally {
      process.env.PATH = savedPath;
      await fs.rm(plain, { recursive: true, force: true });
    }
  });
});
