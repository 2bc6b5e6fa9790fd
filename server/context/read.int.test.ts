import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import type { Actor } from "@/server/identity/actor";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject } from "@/tests/fixtures";
import { indexDocuments } from "./indexer";
import { readDocument } from "./read";

// Reading a whole document by its path, as an agent pointed at it does.

const cli: Actor = { kind: "cli", label: "cli:test" };

const guide = `# Guide

Start here.

## Install

Run the installer.

## Configure

Edit the config file.
`;

describe.each(testKinds)("readDocument on %s", (kind) => {
  let handle: DatabaseHandle;
  let slug: string;
  let agent: Actor;
  let stranger: Actor;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    const project = await makeProject(handle.db);
    slug = project.slug;
    agent = (await makeAgent(handle.db, project.id, "reader")).actor;
    const other = await makeProject(handle.db);
    stranger = (await makeAgent(handle.db, other.id, "outsider")).actor;
    await indexDocuments(handle.db, cli, {
      project: slug,
      files: [{ path: "docs/guide.md", content: guide }],
    });
  });

  afterAll(async () => {
    await handle?.close();
  });

  it("returns the document's sections in order, by path", async () => {
    const document = await readDocument(handle.db, agent, {
      project: slug,
      path: "./docs/guide.md",
    });
    expect(document).toMatchObject({
      path: "docs/guide.md",
      title: "Guide",
      status: "canonical",
    });
    expect(document.sections.map((s) => s.headingPath)).toEqual([
      "Guide",
      "Guide > Install",
      "Guide > Configure",
    ]);
    expect(document.sections[1].text).toContain("Run the installer.");
    expect(document.sections[2].line).toBeGreaterThan(
      document.sections[1].line,
    );
  });

  it("answers not_found for an unknown path or another project", async () => {
    await expect(
      readDocument(handle.db, agent, { project: slug, path: "nope.md" }),
    ).rejects.toMatchObject({
      code: "not_found",
      message: "Document nope.md was not found",
    });
    await expect(
      readDocument(handle.db, stranger, {
        project: slug,
        path: "docs/guide.md",
      }),
    ).rejects.toMatchObject({ code: "not_found" });
    await expect(
      readDocument(handle.db, agent, { project: slug, path: " " }),
    ).rejects.toMatchObject({ code: "invalid_input" });
  });
});
