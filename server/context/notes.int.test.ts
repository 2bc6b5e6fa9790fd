import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET as answerRoute } from "@/app/api/agent/v1/context/route";
import { POST as writeRoute } from "@/app/api/agent/v1/context/docs/route";
import {
  DELETE as deleteRoute,
  GET as getRoute,
} from "@/app/api/agent/v1/context/docs/[id]/route";
import { POST as restoreRoute } from "@/app/api/agent/v1/context/docs/[id]/restore/route";
import { PATCH as patchRoute } from "@/app/api/agent/v1/context/docs/[id]/sections/route";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { agents, auditLog } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { rejection } from "@/tests/failures";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject } from "@/tests/fixtures";
import { browseDocuments, getDocument, listDocuments } from "./documents";
import { indexDocuments } from "./indexer";

// Agents writing back what they learned, through the agent API as they
// meet it: one canonical document per topic, supersede, patch by heading,
// versions, soft delete and restore, and indexed files left alone.

const cli: Actor = { kind: "cli", label: "cli:test" };

type Handler = (
  request: Request,
  context: { params: Promise<Record<string, string>> },
) => Promise<Response>;

// Bodies are JSON of any shape; tests read the fields they check.
type Body = Record<string, any>;

const rollbackBody = `Deploys go out behind a canary.

## Rollback

Run \`flotilla-deploy rollback --to previous\` to return the canary to the
last good release; a rollback takes about two minutes.

## Example

\`\`\`bash
# Secret
flotilla-deploy rollback --to previous
\`\`\`
`;

const fonts = `# Fonts

Load Google fonts with next/font without layout shift.
`;

describe.each(testKinds)("writing back context on %s", (kind) => {
  let handle: DatabaseHandle;
  let secret: string;
  let agentId: string;
  let projectId: string;
  let slug: string;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    const project = await makeProject(handle.db);
    projectId = project.id;
    slug = project.slug;
    const agent = await makeAgent(handle.db, project.id, "scribe");
    secret = agent.secret;
    agentId = agent.agent.id;
    await indexDocuments(handle.db, cli, {
      project: slug,
      files: [{ path: "docs/fonts.md", content: fonts }],
    });
  });

  afterAll(async () => {
    useDatabase(null);
    await handle?.close();
  });

  async function call(
    handler: Handler,
    options: {
      method?: string;
      url?: string;
      id?: string;
      body?: unknown;
      secret?: string;
    } = {},
  ) {
    const method = options.method ?? "POST";
    const params: Record<string, string> = options.id ? { id: options.id } : {};
    const response = await handler(
      new Request(`http://test${options.url ?? "/api/agent/v1/context/docs"}`, {
        method,
        headers: {
          authorization: `Bearer ${options.secret ?? secret}`,
          "content-type": "application/json",
        },
        body:
          options.body === undefined ? undefined : JSON.stringify(options.body),
      }),
      { params: Promise.resolve(params) },
    );
    const text = await response.text();

    return {
      status: response.status,
      body: (text ? JSON.parse(text) : null) as Body,
    };
  }

  const ask = (q: string) =>
    call(answerRoute, {
      method: "GET",
      url: `/api/agent/v1/context?q=${encodeURIComponent(q)}`,
    });

  const write = (body: Body) => call(writeRoute, { body });

  it("refuses a wrong kind and an empty topic with their field paths", async () => {
    const refused = await write({
      kind: "memo",
      topic: "  ",
      title: "Rollbacks",
      body: "Text",
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe("invalid_input");
    const paths = (refused.body.error.details as Body[]).map((d) => d.path);
    expect([...new Set(paths)].sort()).toEqual(["kind", "topic"]);

    const noId = await call(patchRoute, {
      method: "PATCH",
      id: "not-a-uuid",
      body: { heading: "Rollback", body: "x" },
    });
    expect(noId.status).toBe(400);
    expect(noId.body.error.details[0].path).toBe("documentId");
  });

  it("stores a note that answers questions, and refuses a second one on its topic", async () => {
    const written = await write({
      kind: "runbook",
      topic: "deploy-rollbacks",
      title: "Deploy rollbacks",
      body: rollbackBody,
    });
    expect(written.status).toBe(201);
    expect(written.body.document).toMatchObject({
      source: "agent-notes",
      path: "notes/runbook/deploy-rollbacks.md",
      title: "Deploy rollbacks",
      topic: "deploy-rollbacks",
      kind: "runbook",
      status: "canonical",
      deleted: false,
    });
    expect(written.body.superseded).toBeNull();

    const answer = await ask("How do I rollback to the last good release?");
    expect(answer.body).toMatchObject({
      answered: true,
      source: "agent-notes",
      path: "notes/runbook/deploy-rollbacks.md",
      headingPath: "Deploy rollbacks > Rollback",
    });
    expect(answer.body.text).toContain("flotilla-deploy rollback");

    const again = await write({
      kind: "decision",
      topic: "Deploy-Rollbacks",
      title: "We roll back by hand",
      body: "Never automatically.",
    });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain("supersedes");
    expect(again.body.error.details.canonical).toEqual({
      id: written.body.document.id,
      path: "notes/runbook/deploy-rollbacks.md",
      title: "Deploy rollbacks",
    });
  });

  it("lets only one of two concurrent writes of a topic through", async () => {
    const note = (title: string) => ({
      kind: "note",
      topic: "race",
      title,
      body: "Both agents learned the same thing.",
    });
    const results = await Promise.all([
      write(note("First")),
      write(note("Second")),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
  });

  it("supersedes a topic's document, keeping the old one retrievable", async () => {
    const first = await write({
      kind: "decision",
      topic: "queue-choice",
      title: "Queue choice",
      body: "We use the zircon queue for background jobs.",
    });
    const second = await write({
      kind: "decision",
      topic: "queue-choice",
      title: "Queue choice, revised",
      body: "We moved background jobs to the basalt queue.",
      supersedes: "queue-choice",
    });
    expect(second.status).toBe(201);
    expect(second.body.superseded).toMatchObject({
      id: first.body.document.id,
    });
    expect(second.body.document).toMatchObject({
      status: "canonical",
      version: "2",
      path: "notes/decision/queue-choice.md",
    });

    const old = await call(getRoute, {
      method: "GET",
      id: first.body.document.id,
    });
    expect(old.body).toMatchObject({
      status: "superseded",
      canonicalDocumentId: second.body.document.id,
    });
    expect(old.body.statusReason).toContain(second.body.document.id);
    expect(old.body.versions[0].text).toContain("zircon queue");
    expect(old.body.topicDocuments.map((d: Body) => d.status)).toEqual([
      "superseded",
      "canonical",
    ]);

    const answer = await ask("Which queue runs background jobs?");
    expect(answer.body).toMatchObject({ answered: true, version: "2" });
    expect(answer.body.text).toContain("basalt");

    // The old document is not the topic's current one any more.
    const stale = await write({
      kind: "decision",
      topic: "queue-choice",
      title: "Third try",
      body: "Text.",
      supersedes: first.body.document.id,
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.message).toContain("superseded");
  });

  it("patches a section by heading, keeping the previous version", async () => {
    const written = await write({
      kind: "runbook",
      topic: "releases",
      title: "Releases",
      body: [
        "## Rollback",
        "",
        "### Steps",
        "",
        "Old rollback steps.",
        "",
        "## Release",
        "",
        "### Steps",
        "",
        "Tag the commit.",
        "",
        "```md",
        "# Fenced",
        "```",
      ].join("\n"),
    });
    const id = written.body.document.id as string;
    const patch = (heading: string, body: string) =>
      call(patchRoute, { method: "PATCH", id, body: { heading, body } });

    const ambiguous = await patch("Steps", "x");
    expect(ambiguous.status).toBe(409);
    expect(
      ambiguous.body.error.details.candidates.map((c: Body) => c.headingPath),
    ).toEqual(["Releases > Rollback > Steps", "Releases > Release > Steps"]);

    const fenced = await patch("Fenced", "x");
    expect(fenced.status).toBe(404);
    expect(fenced.body.error.message).toContain('"Fenced"');

    const patched = await patch(
      "Rollback > Steps",
      "Run the zeppelin rollback script.",
    );
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      heading: "Releases > Rollback > Steps",
      version: 2,
      changed: true,
    });

    const detail = await call(getRoute, { method: "GET", id });
    expect(detail.body.versions.map((v: Body) => v.change)).toEqual([
      "written",
      "patched",
    ]);
    expect(detail.body.versions[0].text).toContain("Old rollback steps.");
    expect(detail.body.versions[1].text).not.toContain("Old rollback steps.");
    const steps = detail.body.sections.filter(
      (s: Body) => s.heading === "Steps",
    );
    expect(steps[0].text).toBe(
      "### Steps\n\nRun the zeppelin rollback script.",
    );
    // The next section and the fence after it are untouched.
    expect(steps[1].text).toContain("# Fenced");

    const answer = await ask("zeppelin rollback script");
    expect(answer.body).toMatchObject({
      answered: true,
      headingPath: "Releases > Rollback > Steps",
    });
  });

  it("hides a deleted note from answers until it is restored", async () => {
    const written = await write({
      kind: "note",
      topic: "flaky-tests",
      title: "Flaky tests",
      body: "The quokka suite fails when run in parallel; run it serially.",
    });
    const id = written.body.document.id as string;
    const question = "Why does the quokka suite fail?";
    expect((await ask(question)).body.answered).toBe(true);

    const deleted = await call(deleteRoute, { method: "DELETE", id });
    expect(deleted.status).toBe(200);
    expect(deleted.body.document).toMatchObject({ deleted: true });
    expect((await ask(question)).body.answered).toBe(false);
    const listed = await listDocuments(handle.db, cli, {
      project: slug,
      source: "agent-notes",
    });
    expect(listed.find((d) => d.id === id)?.deletedAt).toBeInstanceOf(Date);

    const restored = await call(restoreRoute, { id });
    expect(restored.status).toBe(200);
    expect(restored.body.document).toMatchObject({ deleted: false });
    expect((await ask(question)).body.answered).toBe(true);

    // While deleted, the topic is free; restoring then would make two.
    await call(deleteRoute, { method: "DELETE", id });
    const replacement = await write({
      kind: "note",
      topic: "flaky-tests",
      title: "Flaky tests, again",
      body: "Fixed: the quokka suite is isolated now.",
    });
    expect(replacement.status).toBe(201);
    const clash = await call(restoreRoute, { id });
    expect(clash.status).toBe(409);
    expect(clash.body.error.details.canonical.id).toBe(
      replacement.body.document.id,
    );
  });

  it("never shows a deleted note as canonical or as what replaced another", async () => {
    const d1 = await write({
      kind: "runbook",
      topic: "cache-purges",
      title: "Cache purges",
      body: "Purge the edge cache with the tamarind tool.",
    });
    const d2 = await write({
      kind: "decision",
      topic: "cache-purges",
      title: "Cache purges, revised",
      body: "Purge the edge cache from the console instead.",
      supersedes: "cache-purges",
    });
    expect(d2.status).toBe(201);
    const d1Id = d1.body.document.id as string;
    const d2Id = d2.body.document.id as string;
    expect(
      (await call(deleteRoute, { method: "DELETE", id: d2Id })).status,
    ).toBe(200);

    // With its successor deleted and no other, D1 points at nothing.
    const orphan = await call(getRoute, { method: "GET", id: d1Id });
    expect(orphan.body).toMatchObject({
      status: "superseded",
      canonicalDocumentId: null,
    });
    expect(orphan.body.statusReason).not.toContain(d2Id);
    expect(orphan.body.statusReason).toContain("deleted");

    const d3 = await write({
      kind: "note",
      topic: "cache-purges",
      title: "Cache purges, third",
      body: "Purges happen on every deploy now.",
    });
    expect(d3.status).toBe(201);
    const d3Id = d3.body.document.id as string;

    const old = await call(getRoute, { method: "GET", id: d1Id });
    expect(old.body).toMatchObject({
      status: "superseded",
      canonicalDocumentId: d3Id,
    });
    expect(old.body.statusReason).toContain(d3Id);
    expect(old.body.statusReason).not.toContain(d2Id);
    expect(
      old.body.topicDocuments.map((d: Body) => [d.id, d.status, d.deleted]),
    ).toEqual([
      [d1Id, "superseded", false],
      [d2Id, "canonical", true],
      [d3Id, "canonical", false],
    ]);

    const page = await getDocument(handle.db, cli, {
      project: slug,
      documentId: d1Id,
    });
    expect(page.canonical).toMatchObject({ id: d3Id, deletedAt: null });

    const notes = await browseDocuments(handle.db, cli, {
      project: slug,
      source: "agent-notes",
      path: "cache-purges",
    });
    expect(notes.statusCounts).toEqual({ canonical: 1, superseded: 1 });
    expect(notes.deleted).toBe(1);
    expect(notes.total).toBe(3);
    const canonical = await browseDocuments(handle.db, cli, {
      project: slug,
      source: "agent-notes",
      path: "cache-purges",
      status: "canonical",
    });
    expect(canonical.total).toBe(1);
    expect(canonical.documents.map((d) => d.id)).toEqual([d3Id]);

    // D2 cannot come back while D3 is canonical; the refusal names D3.
    const refused = await call(restoreRoute, { id: d2Id });
    expect(refused.status).toBe(409);
    expect(refused.body.error.details).toMatchObject({
      topic: "cache-purges",
      canonical: { id: d3Id, path: "notes/note/cache-purges.md" },
    });

    // Restore still works: with D3 deleted the topic is free, D2 comes
    // back as canonical and D1 points at it again.
    await call(deleteRoute, { method: "DELETE", id: d3Id });
    expect((await call(restoreRoute, { id: d2Id })).status).toBe(200);
    const back = await call(getRoute, { method: "GET", id: d1Id });
    expect(back.body).toMatchObject({ canonicalDocumentId: d2Id });
    expect(back.body.statusReason).toContain(d2Id);
  });

  it("refuses to change a file indexed from a repository", async () => {
    const [indexed] = await listDocuments(handle.db, cli, {
      project: slug,
      source: "default",
    });
    const expectRefused = (result: { status: number; body: Body }) => {
      expect(result.status).toBe(409);
      expect(result.body.error.message).toContain("indexed from source");
    };
    expectRefused(
      await call(deleteRoute, { method: "DELETE", id: indexed.id }),
    );
    expectRefused(
      await call(patchRoute, {
        method: "PATCH",
        id: indexed.id,
        body: { heading: "Fonts", body: "x" },
      }),
    );
    expectRefused(
      await write({
        kind: "note",
        topic: "fonts",
        title: "Fonts",
        body: "x",
        supersedes: indexed.id,
      }),
    );
    // Reading it works, with no write-back versions.
    const read = await call(getRoute, { method: "GET", id: indexed.id });
    expect(read.body).toMatchObject({ path: "docs/fonts.md", versions: [] });

    // Indexing cannot overwrite what agents wrote.
    const reserved = await rejection(
      indexDocuments(handle.db, cli, {
        project: slug,
        source: "agent-notes",
        files: [{ path: "notes/note/x.md", content: "# X" }],
      }),
    );
    expect(reserved.status).toBe(400);
  });

  const read = (id: string) => call(getRoute, { method: "GET", id });
  const patchSection = (id: string, heading: string, body: string) =>
    call(patchRoute, { method: "PATCH", id, body: { heading, body } });
  const currentText = async (id: string) =>
    ((await read(id)).body.versions as Body[]).at(-1)?.text as string;

  it("patches the named section of a note written with CR line breaks", async () => {
    for (const [topic, eol] of [
      ["t-cr", "\r"],
      ["t-crlf", "\r\n"],
    ]) {
      const body = ["## A", "", "text a", "", "## B", "", "text b"].join(eol);
      const written = await write({ kind: "note", topic, title: "CR", body });
      expect(written.status).toBe(201);
      const id = written.body.document.id as string;
      expect(await currentText(id)).toBe(
        "# CR\n\n## A\n\ntext a\n\n## B\n\ntext b\n",
      );

      const b = await patchSection(id, "B", "NEW B");
      expect(b.body).toMatchObject({ heading: "CR > B", changed: true });
      const a = await patchSection(id, "A", "NEW A\r\rsecond line");
      expect(a.body).toMatchObject({ heading: "CR > A", changed: true });
      expect(await currentText(id)).toBe(
        "# CR\n\n## A\n\nNEW A\n\nsecond line\n\n## B\n\nNEW B\n",
      );
    }
  });

  it("chains concurrent supersedes by topic name one after another", async () => {
    const first = await write({
      kind: "note",
      topic: "race1",
      title: "Race 1",
      body: "The first word on it.",
    });
    expect(first.status).toBe(201);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        write({
          kind: "note",
          topic: "race1",
          title: `Race 1, take ${i + 2}`,
          body: `Take ${i + 2}.`,
          supersedes: "race1",
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(results.map(() => 201));

    // Versions 2..21 with no gaps, each replacing the one numbered before
    // it, so every superseded document is named by exactly one response.
    const byVersion = new Map<string, Body>(
      results.map((r) => [r.body.document.version, r.body]),
    );
    expect([...byVersion.keys()].map(Number).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 2),
    );
    let previous = first.body.document.id as string;
    for (let version = 2; version <= 21; version++) {
      const written = byVersion.get(String(version)) as Body;
      expect(written.superseded.id).toBe(previous);
      previous = written.document.id;
    }
    const supersededIds = results.map((r) => r.body.superseded.id);
    expect(new Set(supersededIds).size).toBe(20);
  });

  it("refuses to supersede a document of another topic", async () => {
    const alpha = await write({
      kind: "decision",
      topic: "alpha",
      title: "Alpha",
      body: "Alpha's decision.",
    });
    const alphaId = alpha.body.document.id as string;
    for (const supersedes of [alphaId, "alpha"]) {
      const beta = await write({
        kind: "decision",
        topic: "beta",
        title: "Beta",
        body: "Beta's decision.",
        supersedes,
      });
      expect(beta.status).toBe(409);
      expect(beta.body.error.message).toContain("supersedes");
      expect(beta.body.error.message).toContain("topic alpha");
      expect(beta.body.error.details).toMatchObject({
        supersedes,
        topic: "alpha",
        document: { id: alphaId },
      });
    }
    const still = await read(alphaId);
    expect(still.body).toMatchObject({
      status: "canonical",
      canonicalDocumentId: null,
    });
  });

  it("stores titles exactly as sent, and keeps the body's indentation", async () => {
    const titles: Array<[string, string, string]> = [
      ["title-hashes", "##", "Body."],
      ["title-closing", "Use C #", "Body."],
      ["title-hash", "#", "# Evil title\n\nBody."],
      ["title-sharp", "C# and F# \\#", "Body."],
    ];
    for (const [topic, title, body] of titles) {
      const written = await write({ kind: "note", topic, title, body });
      expect(written.status).toBe(201);
      expect(written.body.document.title).toBe(title);
      const id = written.body.document.id as string;
      expect((await read(id)).body).toMatchObject({
        title,
        versions: [{ title }],
      });
      // A patch keeps the title too.
      await patchSection(id, "Evil title", "Patched.");
      expect((await read(id)).body.title).toBe(title);
    }

    for (const separator of ["\u2028", "\u2029"]) {
      const refused = await write({
        kind: "note",
        topic: "title-separator",
        title: `Line${separator}break`,
        body: "Body.",
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error.details.map((d: Body) => d.path)).toEqual([
        "title",
      ]);
    }

    const code = "    indented code\n    second line\n\nAfter the code.";
    const indented = await write({
      kind: "note",
      topic: "indented",
      title: "Indented",
      body: `\n  \n${code}\n\n  \n`,
    });
    expect(indented.status).toBe(201);
    expect(await currentText(indented.body.document.id)).toBe(
      `# Indented\n\n${code}\n`,
    );
    const blank = await write({
      kind: "note",
      topic: "blank",
      title: "Blank",
      body: " \n\t\n",
    });
    expect(blank.status).toBe(400);
    expect(blank.body.error.details[0].path).toBe("body");
  });

  it("refuses a paused agent reading a note", async () => {
    const written = await write({
      kind: "note",
      topic: "paused-read",
      title: "Paused read",
      body: "Only active agents read this.",
    });
    const other = await makeAgent(handle.db, projectId, "sleeper");
    const id = written.body.document.id as string;
    expect(
      (await call(getRoute, { method: "GET", id, secret: other.secret }))
        .status,
    ).toBe(200);
    await handle.db
      .update(agents)
      .set({ status: "paused" })
      .where(eq(agents.id, other.agent.id));
    const refused = await call(getRoute, {
      method: "GET",
      id,
      secret: other.secret,
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("forbidden");
  });

  it("refuses to restore a document that is not deleted", async () => {
    const written = await write({
      kind: "note",
      topic: "not-deleted",
      title: "Not deleted",
      body: "Still here.",
    });
    const refused = await call(restoreRoute, { id: written.body.document.id });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain("not deleted");
  });

  it("matches headings containing > as whole headings", async () => {
    const written = await write({
      kind: "note",
      topic: "gt",
      title: "GT",
      body: "## a>b\n\nold ab\n\n## x > y\n\nold xy\n\n## y2\n\nold y2",
    });
    const id = written.body.document.id as string;
    expect((await patchSection(id, "a>b", "new ab")).body).toMatchObject({
      heading: "GT > a>b",
      changed: true,
    });
    expect((await patchSection(id, "GT > a>b", "newer ab")).status).toBe(200);
    const y = await patchSection(id, "y", "wrong");
    expect(y.status).toBe(404);
    expect((await patchSection(id, "x > y", "new xy")).body).toMatchObject({
      heading: "GT > x > y",
      changed: true,
    });
    expect((await patchSection(id, "GT > x > y", "newer xy")).status).toBe(200);
    const text = await currentText(id);
    expect(text).toContain("## a>b\n\nnewer ab\n");
    expect(text).toContain("## x > y\n\nnewer xy\n");
    expect(text).not.toContain("wrong");
  });

  it("refuses a patch whose body leaves a code fence open, and keeps the sections after it", async () => {
    const written = await write({
      kind: "note",
      topic: "fences",
      title: "Fences",
      body: "## One\n\nfirst\n\n## Two\n\nsecond\n\n## Three\n\nthird",
    });
    const id = written.body.document.id as string;
    const open = await patchSection(id, "One", "```bash\nmake deploy");
    expect(open.status).toBe(400);
    expect(open.body.error.details).toEqual([
      {
        path: "body",
        message: expect.stringContaining("code fence it does not close"),
      },
    ]);
    expect(
      (await patchSection(id, "One", "```bash\nmake deploy\n```")).status,
    ).toBe(200);
    expect((await patchSection(id, "Three", "still third")).status).toBe(200);
    const text = await currentText(id);
    expect(text).toContain("```bash\nmake deploy\n```\n\n## Two");
    expect(text).toContain("## Three\n\nstill third");
  });

  it("audits every change with the agent as actor", async () => {
    const audited = await handle.db
      .select({ action: auditLog.action, actorId: auditLog.actorId })
      .from(auditLog)
      .where(
        and(eq(auditLog.projectId, projectId), eq(auditLog.actorType, "agent")),
      );
    // The paused agent's refused read is audited as a guardrail refusal.
    const rows = audited.filter((row) => row.action.startsWith("context."));
    const actions = new Set(rows.map((row) => row.action));
    expect(actions).toEqual(
      new Set([
        "context.note.write",
        "context.note.patch",
        "context.note.delete",
        "context.note.restore",
      ]),
    );
    expect(rows.every((row) => row.actorId === agentId)).toBe(true);
  });
});
