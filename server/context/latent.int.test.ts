import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows, type DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import type { Actor } from "@/server/identity/actor";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeProject } from "@/tests/fixtures";
import { indexDocuments } from "./indexer";
import { sectionWords } from "./latent";

// The latent space is computed from the sections in the documents' own
// order, so indexing the same documents again (new ids, files in another
// order) gives the same space and the same answers.

const cli: Actor = { kind: "cli", label: "cli:test" };

const files = Array.from({ length: 6 }, (_, i) => ({
  path: `guides/${String.fromCharCode(102 - i)}.md`,
  content: `# Guide ${i}\n\n## First\n\nAlpha ${i}.\n\n## Second\n\nBeta ${i}.\n`,
}));

describe.each(testKinds)("latent space input on %s", (kind) => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
  });
  afterAll(async () => {
    useDatabase(null);
    await handle.close();
  });

  /** Each section as path and line, in the order the space reads them. */
  const order = async (files: Array<{ path: string; content: string }>) => {
    const project = await makeProject(handle.db);
    await indexDocuments(handle.db, cli, { project: project.slug, files });
    const sections = await sectionWords(
      handle.db,
      project.id,
      sql`d.status = 'canonical' and d.deleted_at is null`,
    );
    const places = await queryRows<{ id: string; at: string }>(
      handle.db,
      sql`select s.id, d.path || ':' || s.line as at
            from context_sections s
            join context_documents d on d.id = s.document_id
           where s.project_id = ${project.id}`,
    );
    const at = new Map(places.map((p) => [p.id, p.at]));

    return sections.map((s) => at.get(s.id));
  };

  it("reads the sections in path and line order whatever the ids", async () => {
    const forward = await order(files);
    const backward = await order([...files].reverse());
    expect(forward).toEqual(backward);
    expect(forward.slice(0, 3)).toEqual([
      "guides/a.md:1",
      "guides/a.md:3",
      "guides/a.md:7",
    ]);
    expect(forward).toHaveLength(18);
  });
});
