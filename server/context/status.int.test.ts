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
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import { GET as contextRoute } from "@/app/api/agent/v1/context/route";
import { answerQuestion } from "./answer";
import { setDocumentStatus } from "./classify";
import { listDocuments } from "./documents";
import { indexDirectory, indexDocuments } from "./indexer";

// Two releases of one source, front matter and near-duplicates, as an
// agent and an operator meet them: statuses with reasons, answers only
// from current documents unless stale ones are asked for, and audited
// overrides.

const cli: Actor = { kind: "cli", label: "cli:test" };

const filler = (topic: string) =>
  Array.from(
    { length: 12 },
    (_, i) =>
      `The ${topic} guide, paragraph ${i}, explains step ${i} of ${topic} ` +
      `with details that only matter for ${topic} number ${i}.`,
  ).join("\n\n");

const routeDoc = (extra: string) => `---
title: route.js
---

# route.js

Route handlers export functions named after HTTP methods.

## Segment options

${extra}

${filler("route")}
`;

const newer = {
  "app/api-reference/file-conventions/route.md": routeDoc(
    "Set maxDuration to bound the handler's running time in seconds.",
  ),
  "app/getting-started/fonts.md": `# Fonts\n\n${filler("fonts")}\n`,
  "app/guides/amp-replacement.md": `---
title: AMP
deprecated: true
---

# AMP

${filler("amp")}
`,
};

const older = {
  "01-app/03-api-reference/03-file-conventions/route.md": routeDoc(
    "Set legacyTimeout to bound the handler's running time in seconds.",
  ),
  "01-app/01-getting-started/index.md": `# Getting started\n\n${filler("start")}\n`,
};

async function writeTree(root: string, files: Record<string, string>) {
  for (const [file, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await fs.writeFile(path.join(root, file), content);
  }
}

describe.each(testKinds)("context statuses on %s", (kind) => {
  let handle: DatabaseHandle;
  let root: string;
  let slug: string;
  let projectId: string;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    root = await fs.mkdtemp(path.join(os.tmpdir(), "flotilla-versions-"));
    await writeTree(path.join(root, "v16.5.0"), newer);
    await writeTree(path.join(root, "v16.2.0"), older);
    const project = await makeProject(handle.db);
    slug = project.slug;
    projectId = project.id;
  });
  afterAll(async () => {
    useDatabase(null);
    await handle.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it("makes an older release's documents stale copies of the newer", async () => {
    // The older release is indexed last on purpose: order must not matter.
    const current = await indexDirectory(handle.db, cli, {
      project: slug,
      dir: path.join(root, "v16.5.0"),
      source: "nextjs",
      version: "16.5.0",
    });
    expect(current.statuses).toEqual({ canonical: 2, stale: 1 });
    const old = await indexDirectory(handle.db, cli, {
      project: slug,
      dir: path.join(root, "v16.2.0"),
      source: "nextjs",
      version: "16.2.0",
    });
    expect(old).toMatchObject({ version: "16.2.0", indexed: 2 });
    expect(old.statuses).toEqual({ canonical: 2, stale: 3 });

    const documents = await listDocuments(handle.db, cli, { project: slug });
    const byPath = new Map(documents.map((d) => [d.path, d]));
    expect(
      byPath.get("01-app/03-api-reference/03-file-conventions/route.md"),
    ).toMatchObject({
      version: "16.2.0",
      status: "stale",
      statusReason:
        "older version 16.2.0 of app/api-reference/file-conventions/route.md",
    });
    expect(byPath.get("01-app/01-getting-started/index.md")).toMatchObject({
      status: "stale",
      statusReason: "only in older version 16.2.0",
    });
    expect(byPath.get("app/guides/amp-replacement.md")).toMatchObject({
      status: "stale",
      statusReason: "deprecated: true in front matter",
    });
    expect(byPath.get("app/getting-started/fonts.md")?.status).toBe(
      "canonical",
    );

    // Re-indexing stays incremental and keeps the statuses.
    const again = await indexDirectory(handle.db, cli, {
      project: slug,
      dir: path.join(root, "v16.2.0"),
      source: "nextjs",
      version: "16.2.0",
    });
    expect(again).toMatchObject({ indexed: 0, unchanged: 2, removed: 0 });
    expect(again.statuses).toEqual({ canonical: 2, stale: 3 });
  });

  it("answers from current documents unless stale ones are asked for", async () => {
    const plain = await answerQuestion(handle.db, cli, {
      project: slug,
      q: "legacyTimeout route handler segment option",
    });
    // Only the stale copy names legacyTimeout: by default it never answers.
    if (plain.answered) {
      expect(plain.status).toBe("canonical");
      expect(plain.path).toBe("app/api-reference/file-conventions/route.md");
    }

    const stale = await answerQuestion(handle.db, cli, {
      project: slug,
      q: "legacyTimeout route handler segment option",
      includeStale: true,
    });
    expect(stale).toMatchObject({
      answered: true,
      path: "01-app/03-api-reference/03-file-conventions/route.md",
      version: "16.2.0",
      status: "stale",
      statusReason:
        "older version 16.2.0 of app/api-reference/file-conventions/route.md",
    });

    // A question both releases answer is served from the current one.
    const both = await answerQuestion(handle.db, cli, {
      project: slug,
      q: "route handlers export functions named after HTTP methods",
      includeStale: true,
    });
    expect(both).toMatchObject({
      answered: true,
      status: "canonical",
      version: "16.5.0",
    });

    const { secret } = await makeAgent(handle.db, projectId);
    const call = async (query: string) => {
      const response = await contextRoute(
        new Request(`http://test/api/agent/v1/context${query}`, {
          headers: { authorization: `Bearer ${secret}` },
        }),
        { params: Promise.resolve({}) },
      );

      return {
        status: response.status,
        body: (await response.json()) as Record<string, unknown>,
      };
    };
    const viaApi = await call("?q=legacyTimeout%20segment&include_stale=true");
    expect(viaApi.body).toMatchObject({ answered: true, status: "stale" });
    const otherSource = await call(
      "?q=legacyTimeout%20segment&include_stale=1&source=elsewhere",
    );
    // A source the project has no documents of is refused, naming the
    // sources it has, rather than answered "no answer".
    expect(otherSource.status).toBe(400);
    expect(otherSource.body).toMatchObject({
      error: {
        code: "invalid_input",
        details: [
          {
            path: "source",
            message: expect.stringContaining('sources are "nextjs"'),
          },
        ],
      },
    });
    const bad = await call("?q=fonts&include_stale=maybe");
    expect(bad.status).toBe(400);
  });

  it("marks the older of two near-duplicates duplicate", async () => {
    const project = await makeProject(handle.db);
    const text = `# Deploying\n\n${filler("deploy")}\n`;
    await indexDocuments(handle.db, cli, {
      project: project.slug,
      files: [
        { path: "a/deploy.md", content: text },
        { path: "b/deploy-copy.md", content: `${text}\nOne more line.\n` },
        { path: "c/fonts.md", content: `# Fonts\n\n${filler("fonts")}\n` },
      ],
    });
    const documents = await listDocuments(handle.db, cli, {
      project: project.slug,
    });
    const duplicate = documents.find((d) => d.status === "duplicate");
    expect(documents.filter((d) => d.status === "canonical")).toHaveLength(2);
    // Same indexing time: the path order decides which is the newer.
    expect(duplicate?.path).toBe("b/deploy-copy.md");
    expect(duplicate?.statusReason).toMatch(/^\d+% similar to a\/deploy\.md$/);
  });

  it("shows an ignored superseded_by in the status reason on both pages", async () => {
    const project = await makeProject(handle.db);
    const summary = await indexDocuments(handle.db, cli, {
      project: project.slug,
      source: "runbooks",
      files: [
        {
          path: "paging.md",
          content:
            "---\nsuperseded_by: guides/missing-paging.md\n---\n" +
            "# Paging\n\nPages go out to the on-call engineer.\n",
        },
        {
          path: "rota.md",
          content:
            "---\nsuperseded_by: rota.md\nstatus: draft\n---\n" +
            "# Rota\n\nWho is on call this week.\n",
        },
      ],
    });
    expect(summary.warnings.map((w) => w.path)).toEqual([
      "paging.md",
      "rota.md",
    ]);

    // What the documents page and a document's page read.
    const viewer = await makeUser(handle.db, "viewer");
    const caller = createCaller({ db: handle.db, actor: viewer.actor });
    const page = await caller.context.browse({ project: project.slug });
    const byPath = new Map(page.documents.map((d) => [d.path, d]));
    expect(byPath.get("paging.md")).toMatchObject({
      status: "canonical",
      statusReason:
        "declared successor ignored (superseded_by: " +
        "guides/missing-paging.md): it names no document of this source",
    });
    expect(byPath.get("rota.md")).toMatchObject({
      status: "stale",
      statusReason:
        "front matter declares a draft (status: draft), not published; " +
        "declared successor ignored (superseded_by: rota.md): it names " +
        "this document itself",
    });
    const paging = byPath.get("paging.md");
    if (!paging) throw new Error("paging.md missing");
    const one = await caller.context.document({
      project: project.slug,
      documentId: paging.id,
    });
    expect(one.statusReason).toBe(paging.statusReason);
  });

  it("shows an ignored status in the status reason, still warning in the summary", async () => {
    const project = await makeProject(handle.db);
    const summary = await indexDocuments(handle.db, cli, {
      project: project.slug,
      source: "runbooks",
      files: [
        {
          path: "pager.md",
          content:
            "---\nstatus: retired\n---\n" +
            "# Pager\n\nThe pager rotates every Monday.\n",
        },
        {
          path: "escalation.md",
          content:
            "---\nstatus: 42\n---\n" +
            "# Escalation\n\nEscalate after fifteen minutes.\n",
        },
      ],
    });
    expect(summary.warnings).toEqual([
      expect.objectContaining({
        path: "escalation.md",
        problem: expect.stringMatching(
          /^status: 42 in front matter is not a known status \(known: .*\); ignored$/,
        ),
      }),
      expect.objectContaining({
        path: "pager.md",
        problem: expect.stringMatching(
          /^status: retired in front matter is not a known status/,
        ),
      }),
    ]);

    // What the documents page and a document's page read.
    const viewer = await makeUser(handle.db, "viewer");
    const caller = createCaller({ db: handle.db, actor: viewer.actor });
    const page = await caller.context.browse({ project: project.slug });
    const byPath = new Map(page.documents.map((d) => [d.path, d]));
    expect(byPath.get("pager.md")).toMatchObject({
      status: "canonical",
      statusReason: expect.stringMatching(
        /^declared status ignored \(status: retired\): it is not a known status \(known: canonical, stale, duplicate, superseded, .*draft.*\)$/,
      ),
    });
    expect(byPath.get("escalation.md")).toMatchObject({
      status: "canonical",
      statusReason: expect.stringMatching(
        /^declared status ignored \(status: 42\): it is a number, not a known status \(known: /,
      ),
    });
    const pager = byPath.get("pager.md");
    if (!pager) throw new Error("pager.md missing");
    const one = await caller.context.document({
      project: project.slug,
      documentId: pager.id,
    });
    expect(one.statusReason).toBe(pager.statusReason);
  });

  it("reports a superseded_by cycle across versions whichever is indexed", async () => {
    const project = await makeProject(handle.db);
    const v1 = path.join(root, "cycle-v1");
    const v2 = path.join(root, "cycle-v2");
    await writeTree(v1, {
      "alerts.md":
        "---\nsuperseded_by: paging.md\n---\n# Alerts\n\nAlerts fire.\n",
    });
    await writeTree(v2, {
      "paging.md":
        "---\nsuperseded_by: alerts.md\n---\n# Paging\n\nPages go out.\n",
    });
    const index = (dir: string, version: string) =>
      indexDirectory(handle.db, cli, {
        project: project.slug,
        dir,
        source: "ops",
        version,
      });
    const cycle =
      "superseded_by in front matter forms a cycle: alerts.md (1) → " +
      "paging.md (2) → alerts.md (1); ignored for these documents";

    await index(v1, "1");
    const second = await index(v2, "2");
    expect(second.warnings).toEqual([
      { path: "paging.md", problem: cycle, statusRule: true },
    ]);
    const again = await index(v1, "1");
    expect(again.warnings).toEqual([
      { path: "alerts.md", problem: cycle, statusRule: true },
    ]);

    // Handled alike from either side: the newer document stays current and
    // its reason says why its superseded_by was not followed.
    const documents = await listDocuments(handle.db, cli, {
      project: project.slug,
    });
    expect(
      documents.map(({ path, version, status, statusReason }) => ({
        path,
        version,
        status,
        statusReason,
      })),
    ).toEqual([
      {
        path: "paging.md",
        version: "2",
        status: "canonical",
        statusReason:
          "declared successor ignored (superseded_by: alerts.md): it forms " +
          "a cycle, alerts.md (1) → paging.md (2) → alerts.md (1)",
      },
      {
        path: "alerts.md",
        version: "1",
        status: "stale",
        statusReason:
          "only in older version 1; declared successor ignored " +
          "(superseded_by: paging.md): it forms a cycle, alerts.md (1) → " +
          "paging.md (2) → alerts.md (1)",
      },
    ]);
  });

  it("lets an operator override a status, audited", async () => {
    const operator = await makeUser(handle.db, "operator");
    const caller = createCaller({ db: handle.db, actor: operator.actor });
    const documents = await caller.context.documents({ project: slug });
    const old = documents.find((d) => d.path.startsWith("01-app/03"));
    if (!old) throw new Error("older route document missing");

    const pinned = await caller.context.setStatus({
      project: slug,
      documentId: old.id,
      status: "canonical",
      reason: "still deployed on 16.2",
    });
    expect(pinned).toMatchObject({
      status: "canonical",
      statusReason: `pinned canonical by ${operator.user.email}: still deployed on 16.2`,
    });
    const served = await answerQuestion(handle.db, cli, {
      project: slug,
      q: "legacyTimeout segment option",
    });
    expect(served).toMatchObject({ answered: true, path: old.path });

    const back = await setDocumentStatus(handle.db, operator.actor, {
      project: slug,
      documentId: old.id,
      status: "auto",
    });
    expect(back.status).toBe("stale");

    const [audit] = await handle.db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.projectId, projectId),
          eq(auditLog.action, "context.document.status"),
          eq(auditLog.targetId, old.id),
        ),
      )
      .limit(1);
    expect(audit?.details).toMatchObject({
      path: old.path,
      before: { status: "stale" },
      after: { status: "canonical" },
    });

    const viewer = await makeUser(handle.db, "viewer");
    await expect(
      createCaller({ db: handle.db, actor: viewer.actor }).context.setStatus({
        project: slug,
        documentId: old.id,
        status: "stale",
      }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
  });
});
