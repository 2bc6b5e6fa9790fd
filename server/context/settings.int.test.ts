import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { auditLog } from "@/db/schema";
import { createCaller } from "@/server/api/root";
import type { Actor } from "@/server/identity/actor";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeProject, makeUser } from "@/tests/fixtures";
import { indexDirectory } from "./indexer";

// The age setting an admin changes in the console, the documents page's
// filters and paging, and a document's page with the documents linked to
// it (superseded_by resolved to its target).

const cli: Actor = { kind: "cli", label: "cli:test" };

const files: Record<string, string> = {
  "guides/auth.md": "# Authentication\n\nSign in with a passkey.\n",
  "guides/old-auth.md":
    "---\nsuperseded_by: ./auth.md\n---\n# Old authentication\n\nPasswords.\n",
  "guides/setup.md": "# Setup\n\nInstall the CLI.\n",
  "reference/api.md": "# API\n\nEndpoints.\n",
  "reference/cli.md": "# CLI\n\nCommands.\n",
};

describe.each(testKinds)("context settings and pages on %s", (kind) => {
  let handle: DatabaseHandle;
  let root: string;
  let slug: string;
  let projectId: string;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    root = await fs.mkdtemp(path.join(os.tmpdir(), "flotilla-age-"));
    for (const [file, text] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await fs.writeFile(path.join(root, file), text);
    }
    // setup.md has not changed since early 2020.
    const old = new Date("2020-01-15T10:00:00Z");
    await fs.utimes(path.join(root, "guides/setup.md"), old, old);
    const project = await makeProject(handle.db);
    slug = project.slug;
    projectId = project.id;
    await indexDirectory(handle.db, cli, { project: slug, dir: root });
  });
  afterAll(async () => {
    useDatabase(null);
    await handle.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it("lets an admin set the age limit, flagging old documents, audited", async () => {
    const admin = await makeUser(handle.db, "admin");
    const caller = createCaller({ db: handle.db, actor: admin.actor });
    expect(await caller.context.settings({ project: slug })).toEqual({
      staleAfterDays: null,
    });

    const saved = await caller.context.setSettings({
      project: slug,
      staleAfterDays: 365,
    });
    expect(saved).toMatchObject({ staleAfterDays: 365 });
    const page = await caller.context.browse({ project: slug, path: "setup" });
    expect(page.documents[0]).toMatchObject({
      path: "guides/setup.md",
      status: "stale",
      statusReason:
        "unchanged since 2020-01-15 (file time), over the 365-day age " +
        "limit; a weak signal, no other rule applied",
    });
    // Re-indexing keeps the rule; the other documents are recent.
    const summary = await indexDirectory(handle.db, cli, {
      project: slug,
      dir: root,
    });
    expect(summary.statuses).toEqual({
      canonical: 3,
      stale: 1,
      superseded: 1,
    });

    const [audit] = await handle.db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.projectId, projectId),
          eq(auditLog.action, "context.settings"),
        ),
      );
    expect(audit?.details).toMatchObject({
      before: { staleAfterDays: null },
      after: { staleAfterDays: 365 },
    });

    await caller.context.setSettings({ project: slug, staleAfterDays: null });
    const back = await caller.context.browse({ project: slug, path: "setup" });
    expect(back.documents[0]?.status).toBe("canonical");

    await expect(
      caller.context.setSettings({ project: slug, staleAfterDays: 0 }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    const operator = await makeUser(handle.db, "operator");
    await expect(
      createCaller({
        db: handle.db,
        actor: operator.actor,
      }).context.setSettings({ project: slug, staleAfterDays: 30 }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("pages and filters documents, counting statuses", async () => {
    const viewer = await makeUser(handle.db, "viewer");
    const caller = createCaller({ db: handle.db, actor: viewer.actor });
    const first = await caller.context.browse({ project: slug, limit: 2 });
    expect(first.total).toBe(5);
    expect(first.documents.map((d) => d.path)).toEqual([
      "guides/auth.md",
      "guides/old-auth.md",
    ]);
    const second = await caller.context.browse({
      project: slug,
      limit: 2,
      offset: 4,
    });
    expect(second.documents.map((d) => d.path)).toEqual(["reference/cli.md"]);
    expect(first.statusCounts).toEqual({ canonical: 4, superseded: 1 });
    expect(first.documents.map((d) => d.sections)).toEqual([1, 1]);
    expect(first.sources).toEqual([
      { source: "default", versions: [""], documents: 5 },
    ]);

    const superseded = await caller.context.browse({
      project: slug,
      status: "superseded",
    });
    expect(superseded.total).toBe(1);
    // Counts ignore the status filter but follow the others.
    expect(superseded.statusCounts).toEqual({ canonical: 4, superseded: 1 });
    const reference = await caller.context.browse({
      project: slug,
      path: "REFERENCE/",
    });
    expect(reference.total).toBe(2);
    const wildcard = await caller.context.browse({ project: slug, path: "%" });
    expect(wildcard.total).toBe(0);
    const none = await caller.context.browse({ project: slug, source: "x" });
    expect(none).toMatchObject({ total: 0, documents: [], statusCounts: {} });
  });

  it("links a superseded document to its target and back", async () => {
    const viewer = await makeUser(handle.db, "viewer");
    const caller = createCaller({ db: handle.db, actor: viewer.actor });
    const { documents } = await caller.context.browse({
      project: slug,
      path: "auth",
    });
    const auth = documents.find((d) => d.path === "guides/auth.md");
    const old = documents.find((d) => d.path === "guides/old-auth.md");
    if (!auth || !old) throw new Error("auth documents missing");

    const oldPage = await caller.context.document({
      project: slug,
      documentId: old.id,
    });
    expect(oldPage).toMatchObject({
      status: "superseded",
      statusReason: "superseded by guides/auth.md (front matter)",
      canonical: { id: auth.id, path: "guides/auth.md" },
      modifiedSource: "file",
      frontMatter: { superseded_by: "./auth.md" },
    });
    expect(oldPage.sections.map((s) => [s.headingPath, s.line])).toEqual([
      ["Old authentication", 4],
    ]);
    const authPage = await caller.context.document({
      project: slug,
      documentId: auth.id,
    });
    expect(authPage.canonical).toBeNull();
    expect(authPage.copies.map((c) => c.path)).toEqual(["guides/old-auth.md"]);
    expect(authPage.versions).toEqual([]);
  });
});
