import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { contextDocuments } from "@/db/schema";
import { DomainError } from "@/server/errors";
import type { Actor } from "@/server/identity/actor";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeProject } from "@/tests/fixtures";
import { answerQuestion } from "./answer";
import { indexDirectory, indexDocuments } from "./indexer";

// Re-indexing a source as an operator does it, mistakes included: a folder
// that holds no markdown must not wipe the index, a shrinking folder still
// removes what is gone and says how much, and front matter that declares a
// status the rules cannot honour is reported instead of obeyed blindly.

const cli: Actor = { kind: "cli", label: "cli:test" };

async function writeTree(root: string, files: Record<string, string>) {
  await fs.rm(root, { recursive: true, force: true });
  await fs.mkdir(root, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await fs.writeFile(path.join(root, file), content);
  }
}

const tenFiles = Object.fromEntries(
  Array.from({ length: 10 }, (_, i) => [
    `guide-${i}.md`,
    `# Guide ${i}\n\nStep ${i} of the rollout.\n`,
  ]),
);

describe.each(testKinds)("re-indexing a source on %s", (kind) => {
  let handle: DatabaseHandle;
  let root: string;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    root = await fs.mkdtemp(path.join(os.tmpdir(), "flotilla-reindex-"));
  });
  afterAll(async () => {
    await handle.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  const storedPaths = async (projectId: string) =>
    (
      await handle.db
        .select({ path: contextDocuments.path })
        .from(contextDocuments)
        .where(
          and(
            eq(contextDocuments.projectId, projectId),
            eq(contextDocuments.source, "docs"),
          ),
        )
    )
      .map((d) => d.path)
      .sort();

  it("refuses a folder with no markdown files and keeps the index", async () => {
    const project = await makeProject(handle.db);
    const docs = path.join(root, "refuse", "docs");
    await writeTree(docs, tenFiles);
    await indexDirectory(handle.db, cli, {
      project: project.slug,
      dir: docs,
      source: "docs",
    });

    // A folder that exists but holds other files, an empty one, and one
    // whose only markdown is a link the indexer does not follow.
    const images = path.join(root, "refuse", "images");
    await writeTree(images, { "logo.png": "png", "notes.txt": "text" });
    const empty = path.join(root, "refuse", "empty");
    await writeTree(empty, {});
    const links = path.join(root, "refuse", "links");
    await writeTree(links, {});
    await fs.symlink(
      path.join(docs, "guide-0.md"),
      path.join(links, "guide-0.md"),
    );
    for (const dir of [images, empty, links]) {
      const refused = await indexDirectory(handle.db, cli, {
        project: project.slug,
        dir,
        source: "docs",
      }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(DomainError);
      expect(refused).toMatchObject({
        code: "invalid_input",
        status: 400,
        message: expect.stringMatching(
          new RegExp(
            `^${dir} holds no markdown files \\(\\.md, \\.mdx\\).*` +
              "Nothing was indexed and nothing was removed; to remove " +
              "every document of source docs on purpose, index it " +
              "allowing an empty folder \\(--allow-empty\\)$",
          ),
        ),
        details: [{ path: "dir", message: "holds no markdown files" }],
      });
    }
    expect(await storedPaths(project.id)).toHaveLength(10);

    // Asked for explicitly, the source is emptied.
    const emptied = await indexDirectory(handle.db, cli, {
      project: project.slug,
      dir: empty,
      source: "docs",
      allowEmpty: true,
    });
    expect(emptied).toMatchObject({ filesSeen: 0, removed: 10 });
    expect(await storedPaths(project.id)).toEqual([]);
  });

  it("refuses a folder whose every markdown file is skipped", async () => {
    const project = await makeProject(handle.db);
    const docs = path.join(root, "skipped", "docs");
    await writeTree(docs, tenFiles);
    await indexDirectory(handle.db, cli, {
      project: project.slug,
      dir: docs,
      source: "docs",
    });

    const broken = path.join(root, "skipped", "broken");
    await writeTree(broken, { "nul.md": "# Nul\n\nbefore\0after\n" });
    const refused = await indexDirectory(handle.db, cli, {
      project: project.slug,
      dir: broken,
      source: "docs",
    }).catch((error: unknown) => error);
    expect(refused).toMatchObject({
      code: "invalid_input",
      message: expect.stringMatching(
        /^the folder holds no markdown files that can be indexed, 1 skipped \(nul\.md: .*NUL.*\)\. Nothing was indexed and nothing was removed/,
      ),
      details: [{ path: "dir", message: "holds no markdown files" }],
    });
    expect(await storedPaths(project.id)).toHaveLength(10);
  });

  it("removes what left a shrinking folder and says how many", async () => {
    const project = await makeProject(handle.db);
    const docs = path.join(root, "shrink", "docs");
    await writeTree(docs, tenFiles);
    await indexDirectory(handle.db, cli, {
      project: project.slug,
      dir: docs,
      source: "docs",
      version: "2",
    });

    // Seven of ten files gone: more than half, still a real re-index.
    await writeTree(docs, {
      "guide-0.md": tenFiles["guide-0.md"],
      "guide-1.md": tenFiles["guide-1.md"],
      "guide-2.md": "# Guide 2\n\nRewritten step.\n",
    });
    const summary = await indexDirectory(handle.db, cli, {
      project: project.slug,
      dir: docs,
      source: "docs",
      version: "2",
    });
    expect(summary).toMatchObject({
      filesSeen: 3,
      indexed: 1,
      unchanged: 2,
      removed: 7,
    });
    expect(await storedPaths(project.id)).toEqual([
      "guide-0.md",
      "guide-1.md",
      "guide-2.md",
    ]);
  });

  it("keeps a document whose superseded_by names nothing, and warns", async () => {
    const project = await makeProject(handle.db);
    const docs = path.join(root, "superseded", "docs");
    await writeTree(docs, {
      "deploy.md":
        "---\nsuperseded_by: guides/missing-deploy.md\n---\n" +
        "# Deploy\n\nRun the zanzibar rollout script to deploy.\n",
      "rollback.md":
        "---\nsuperseded_by: deploy.md\n---\n" +
        "# Rollback\n\nRevert with the quokka script.\n",
    });
    const summary = await indexDirectory(handle.db, cli, {
      project: project.slug,
      dir: docs,
      source: "docs",
    });
    expect(summary.statuses).toEqual({ canonical: 1, superseded: 1 });
    expect(summary.warnings).toEqual([
      {
        path: "deploy.md",
        problem:
          "superseded_by: guides/missing-deploy.md in front matter names " +
          "no document of this source; not marked superseded",
        statusRule: true,
      },
    ]);

    // It still answers, as the only document on its subject.
    const answer = await answerQuestion(handle.db, cli, {
      project: project.slug,
      q: "zanzibar rollout script",
    });
    expect(answer).toMatchObject({
      answered: true,
      path: "deploy.md",
      status: "canonical",
    });

    // Once the named document arrives, the rule holds and the warning goes.
    const later = await indexDocuments(handle.db, cli, {
      project: project.slug,
      source: "docs",
      files: [
        {
          path: "guides/missing-deploy.md",
          content: "# Deploy, new\n\nUse the pipeline.\n",
        },
      ],
    });
    expect(later.warnings).toEqual([]);
    const [deploy] = await handle.db
      .select({
        status: contextDocuments.status,
        statusReason: contextDocuments.statusReason,
      })
      .from(contextDocuments)
      .where(
        and(
          eq(contextDocuments.projectId, project.id),
          eq(contextDocuments.path, "deploy.md"),
        ),
      );
    expect(deploy).toEqual({
      status: "superseded",
      statusReason: "superseded by guides/missing-deploy.md (front matter)",
    });
  });

  it("ignores superseded_by that cannot hold, and warns once for each", async () => {
    const project = await makeProject(handle.db);
    const docs = path.join(root, "superseded-loops", "docs");
    await writeTree(docs, {
      "alerts.md":
        "---\nsuperseded_by: paging.md\n---\n" +
        "# Alerts\n\nThe albatross monitor raises alerts.\n",
      "paging.md":
        "---\nsuperseded_by: rota.md\n---\n# Paging\n\nPages go out.\n",
      "rota.md":
        "---\nsuperseded_by: alerts.md\n---\n# Rota\n\nWho is on call.\n",
      "backups.md":
        "---\nsuperseded_by: backups.md\n---\n# Backups\n\nNightly.\n",
      "restore.md":
        "---\nsuperseded_by:\n  - backups.md\n---\n# Restore\n\nFrom tape.\n",
      "queues.md":
        "---\nstatus: superseded\n---\n" +
        "# Queues\n\nJobs wait in the cormorant queue.\n",
    });
    const summary = await indexDirectory(handle.db, cli, {
      project: project.slug,
      dir: docs,
      source: "docs",
    });
    expect(summary.statuses).toEqual({ canonical: 5, stale: 1 });
    expect(summary.warnings).toEqual([
      {
        path: "alerts.md",
        problem:
          "superseded_by in front matter forms a cycle: alerts.md → " +
          "paging.md → rota.md → alerts.md; ignored for these documents",
        statusRule: true,
      },
      {
        path: "backups.md",
        problem:
          "superseded_by: backups.md in front matter names this document " +
          "itself; not marked superseded",
        statusRule: true,
      },
      {
        path: "queues.md",
        problem:
          "status: superseded in front matter names no successor; add " +
          "superseded_by: <path or title of the current document> so that " +
          "one answers instead; marked stale",
        statusRule: true,
      },
      {
        path: "restore.md",
        problem:
          'superseded_by: ["backups.md"] in front matter is a list; ' +
          "expected one document's path or title " +
          "(superseded_by: guides/deploy.md); ignored",
        statusRule: true,
      },
    ]);

    // The documents of the cycle still answer.
    expect(
      await answerQuestion(handle.db, cli, {
        project: project.slug,
        q: "albatross monitor alerts",
      }),
    ).toMatchObject({ answered: true, path: "alerts.md", status: "canonical" });

    // Declared superseded with no successor: stale, so it answers only
    // when stale documents are asked for.
    expect(
      await answerQuestion(handle.db, cli, {
        project: project.slug,
        q: "cormorant queue jobs",
      }),
    ).toMatchObject({ answered: false });
    expect(
      await answerQuestion(handle.db, cli, {
        project: project.slug,
        q: "cormorant queue jobs",
        includeStale: true,
      }),
    ).toMatchObject({ answered: true, path: "queues.md", status: "stale" });
    const [queues] = await handle.db
      .select({
        status: contextDocuments.status,
        statusReason: contextDocuments.statusReason,
        canonicalDocumentId: contextDocuments.canonicalDocumentId,
      })
      .from(contextDocuments)
      .where(
        and(
          eq(contextDocuments.projectId, project.id),
          eq(contextDocuments.path, "queues.md"),
        ),
      );
    expect(queues).toEqual({
      status: "stale",
      statusReason:
        "status: superseded in front matter, declared superseded without " +
        "a successor (superseded_by)",
      canonicalDocumentId: null,
    });
  });

  it("does not serve a declared draft by default, and warns on unknown statuses", async () => {
    const project = await makeProject(handle.db);
    const summary = await indexDocuments(handle.db, cli, {
      project: project.slug,
      source: "docs",
      files: [
        {
          path: "billing.md",
          content:
            "---\nstatus: draft\n---\n" +
            "# Billing\n\nInvoices are sent by the pelican service.\n",
        },
        {
          path: "search.md",
          content:
            "---\nstatus: wip\n---\n# Search\n\nThe heron index is rebuilt.\n",
        },
        {
          path: "shipping.md",
          content:
            "---\nstatus: shiny\n---\n" +
            "# Shipping\n\nParcels leave from the osprey dock.\n",
        },
      ],
    });
    expect(summary.statuses).toEqual({ canonical: 1, stale: 2 });
    expect(summary.warnings).toEqual([
      {
        path: "shipping.md",
        problem: expect.stringMatching(
          /^status: shiny in front matter is not a known status \(known: .*draft, wip.*\); ignored$/,
        ),
        statusRule: true,
      },
    ]);
    const drafts = await handle.db
      .select({
        path: contextDocuments.path,
        status: contextDocuments.status,
        statusReason: contextDocuments.statusReason,
      })
      .from(contextDocuments)
      .where(eq(contextDocuments.projectId, project.id))
      .orderBy(contextDocuments.path);
    expect(drafts).toEqual([
      {
        path: "billing.md",
        status: "stale",
        statusReason:
          "front matter declares a draft (status: draft), not published",
      },
      {
        path: "search.md",
        status: "stale",
        statusReason:
          "front matter declares a draft (status: wip), not published",
      },
      {
        path: "shipping.md",
        status: "canonical",
        statusReason: expect.stringMatching(
          /^declared status ignored \(status: shiny\): it is not a known status \(known: .*\)$/,
        ),
      },
    ]);

    const plain = await answerQuestion(handle.db, cli, {
      project: project.slug,
      q: "pelican invoices service",
    });
    expect(plain).toMatchObject({ answered: false });
    const withStale = await answerQuestion(handle.db, cli, {
      project: project.slug,
      q: "pelican invoices service",
      includeStale: true,
    });
    expect(withStale).toMatchObject({
      answered: true,
      path: "billing.md",
      status: "stale",
    });
  });
});
