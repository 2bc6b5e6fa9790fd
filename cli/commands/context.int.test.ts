import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flotilla, json } from "../test-fixtures";

// `flotilla context index` run as a user runs it, on a folder with files
// it cannot take as they are: the run completes and names each of them.

describe("flotilla context index", () => {
  let tmp: string;
  let dataDir: string;
  let docs: string;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-cli-context-"));
    dataDir = path.join(tmp, "data");
    docs = path.join(tmp, "docs");
    fs.mkdirSync(docs);
    const write = (name: string, content: string | Buffer) =>
      fs.writeFileSync(path.join(docs, name), content);
    write("a.md", "# Alpha\n\nsecret-alpha-text\n");
    write("b.md", "# Nul\n\nbefore\0after\n");
    write("c.md", "---\ntitle: [oops\n---\n# Gamma\n");
    write("d.md", Buffer.from([0x23, 0x20, 0x44, 0xff, 0x0a]));
    fs.symlinkSync(path.join(docs, "a.md"), path.join(docs, "e.md"));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("indexes the rest and names each skipped or doubtful file", async () => {
    json(await flotilla(dataDir, ["project", "create", "docs", "--json"]));

    const run = await flotilla(dataDir, [
      "context",
      "index",
      docs,
      "--project",
      "docs",
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("indexed     3");
    expect(run.stdout).toMatch(
      /Skipped 2:\n {2}b\.md: .*NUL.*\n {2}e\.md: .*link/,
    );
    expect(run.stdout).toMatch(
      /Warnings 2:\n {2}c\.md: front matter ignored: .*\n {2}d\.md: not valid UTF-8/,
    );
    expect(run.stdout).not.toContain("secret-alpha-text");

    // Progress goes to stderr; the summary alone to stdout.
    const again = await flotilla(dataDir, [
      "context",
      "index",
      docs,
      "--project",
      "docs",
      "--json",
    ]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      indexed: 0,
      unchanged: 3,
      skipped: [{ path: "b.md" }, { path: "e.md" }],
    });
  });

  it("refuses a folder with no markdown unless --allow-empty, and says what it removed", async () => {
    json(await flotilla(dataDir, ["project", "create", "wiki", "--json"]));
    const wiki = path.join(tmp, "wiki");
    const empty = path.join(tmp, "empty");
    fs.mkdirSync(wiki);
    fs.mkdirSync(empty);
    fs.writeFileSync(path.join(wiki, "a.md"), "# Alpha\n\nOne.\n");
    fs.writeFileSync(
      path.join(wiki, "b.md"),
      "---\nsuperseded_by: gone.md\n---\n# Beta\n\nTwo.\n",
    );
    const index = (dir: string, ...flags: string[]) =>
      flotilla(dataDir, [
        "context",
        "index",
        dir,
        "--project",
        "wiki",
        "--source",
        "wiki",
        ...flags,
      ]);

    const first = await index(wiki);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(
      "Warnings 1:\n  b.md: superseded_by: gone.md in front matter names " +
        "no document of this source; not marked superseded",
    );
    expect(first.stdout).toContain("2 canonical");

    const refused = await index(empty);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toBe(
      `flotilla: ${empty} holds no markdown files (.md, .mdx). Nothing was ` +
        "indexed and nothing was removed; to remove every document of " +
        "source wiki on purpose, index it allowing an empty folder " +
        "(--allow-empty)\n",
    );

    const emptied = await index(empty, "--allow-empty");
    expect(emptied.code).toBe(0);
    expect(emptied.stdout).toContain(
      "removed     2 (documents whose files are no longer in the folder)",
    );
  });
});
