import {
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  migrateDatabase,
  migrationsFolder,
  queryRows,
  type DatabaseHandle,
} from "@/db/client";
import type { Actor } from "@/server/identity/actor";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeProject } from "@/tests/fixtures";
import { answerQuestion } from "./answer";
import { indexDocuments } from "./indexer";

// A database indexed before migration 0012 (which stores each section's
// heading words, each document's path words and whether a section holds
// text) answers right after the upgrade, without indexing again, exactly
// as a database indexed after it.

const cli: Actor = { kind: "cli", label: "cli:test" };

const files = [
  {
    path: "my docs/Getting Started.md",
    content: `# Getting Started

Install the package with npm and run the dev server.

## 100% coverage_report

The coverage_report option writes 100% of lines to \`coverage/lcov.info\`.

## Configuring

### cacheLife profiles

Preset cacheLife profiles set how long a page is cached.
`,
  },
  {
    path: "apiReference/getServerSideProps/fetchData.mdx",
    content: `# fetchData

Use \`getServerSideProps\` to fetch data on each request.

## \`context.params\` and \`req.query\`

\`context.params\` holds the dynamic route params.
`,
  },
  {
    path: "Ünïcode folder/Größe ändern.md",
    content: `# Größe ändern

Die Größe eines Bildes ändern Sie mit \`resizeImage()\`.
`,
  },
];

const questions = [
  "coverage_report 100%",
  "cacheLife profiles",
  "configuring cacheLife",
  "context.params getServerSideProps",
  "fetch data api reference",
  "Größe ändern resizeImage()",
  "getting started",
];

/** The migrations up to, not including, 0012, in a folder of their own. */
function migrationsBefore0012(): string {
  const folder = mkdtempSync(path.join(tmpdir(), "flotilla-before-0012-"));
  cpSync(migrationsFolder(), folder, { recursive: true });
  rmSync(path.join(folder, "0012_ranking_vectors.sql"));
  const journalPath = path.join(folder, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalPath, "utf8")) as {
    entries: Array<{ idx: number }>;
  };
  journal.entries = journal.entries.filter((entry) => entry.idx < 12);
  writeFileSync(journalPath, JSON.stringify(journal));

  return folder;
}

async function answers(handle: DatabaseHandle, project: string) {
  const found = [];
  for (const q of questions) {
    const result = await answerQuestion(handle.db, cli, {
      project,
      q,
      limit: 5,
    });
    found.push({
      q,
      answered: result.answered,
      path: result.answered ? result.path : undefined,
      headingPath: result.answered ? result.headingPath : undefined,
      alternatives: result.alternatives.map((a) => a.headingPath),
    });
  }

  return found;
}

describe.each(testKinds)("upgrading past migration 0012 on %s", (kind) => {
  let upgraded: DatabaseHandle;
  let fresh: DatabaseHandle;
  let before: string;

  beforeAll(async () => {
    before = migrationsBefore0012();
    process.env.FLOTILLA_MIGRATIONS_DIR = before;
    try {
      upgraded = await openTestDatabase(kind);
    } finally {
      delete process.env.FLOTILLA_MIGRATIONS_DIR;
    }
    fresh = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await upgraded?.close();
    await fresh?.close();
    rmSync(before, { recursive: true, force: true });
  });

  it("answers as a freshly indexed database does, without indexing again", async () => {
    const old = await makeProject(upgraded.db, "upgrade-me");
    await indexDocuments(upgraded.db, cli, {
      project: old.slug,
      source: "docs",
      files,
    });
    const [missing] = await queryRows<{ columns: number }>(
      upgraded.db,
      sql`select count(*)::int as columns from information_schema.columns
           where column_name in ('heading_search', 'path_search', 'has_text')`,
    );
    expect(missing.columns).toBe(0);

    await migrateDatabase(upgraded);
    const [stored] = await queryRows<{ sections: number; filled: number }>(
      upgraded.db,
      sql`select count(*)::int as sections,
                 count(*) filter (where s.heading_search is not null
                   and d.path_search is not null
                   and s.has_text is not null)::int as filled
            from context_sections s
            join context_documents d on d.id = s.document_id`,
    );
    expect(stored.sections).toBeGreaterThan(0);
    expect(stored.filled).toBe(stored.sections);

    const now = await makeProject(fresh.db, "upgrade-me");
    await indexDocuments(fresh.db, cli, {
      project: now.slug,
      source: "docs",
      files,
    });
    const afterUpgrade = await answers(upgraded, old.slug);
    expect(afterUpgrade.filter((a) => a.answered).length).toBeGreaterThan(4);
    expect(afterUpgrade).toEqual(await answers(fresh, now.slug));
  });
});
