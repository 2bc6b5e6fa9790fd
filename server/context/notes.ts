import { and, asc, desc, eq, inArray, isNull, or, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { z } from "zod";
import { queryRows, type Database } from "@/db/client";
import {
  contextDocuments,
  contextDocumentVersions,
  contextSections,
} from "@/db/schema";
import {
  conflict,
  DomainError,
  isUniqueViolation,
  notFound,
} from "@/server/errors";
import { actorLabel, type Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { recordAudit } from "@/server/identity/audit";
import { assertAgentActive } from "@/server/guardrails/agents";
import { parseInput } from "@/server/input";
import { newId, now } from "@/server/runtime";
import { AGENT_NOTES_SOURCE } from "./classify";
import { replaceSections, sectionedFile } from "./indexer";
import {
  lineTerminator,
  matchHeading,
  normaliseLineBreaks,
  noteContent,
  replaceSectionBody,
  trimBlankLines,
} from "./patch";
import { leavesFenceOpen, sectionMarkdown } from "./sectioner";

// Write-back: agents store what they learned (decisions, runbooks, notes)
// as documents of the "agent-notes" source, sectioned and indexed like any
// markdown file, so later questions find them.
//
// One live canonical document per topic. A new write of a topic that has
// one is refused unless it supersedes it; the old row then stays, status
// superseded, pointing at the new one. Each document's texts are kept in
// context_document_versions: the first write, then one row per patch.
// Rows of one topic are told apart by the `version` column: 1 for the
// first document of a topic, 2 for the one that superseded it, and so on.
// Every superseded document of a topic points at the topic's live
// canonical one, or at nothing while it has none: never at a deleted one.

export const noteKinds = ["decision", "runbook", "note"] as const;

const uuidPattern =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const topicName = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, "Name a topic, e.g. deploy-rollbacks")
  .max(100)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, "lowercase letters, digits, . _ - only");

export const writeNoteInput = z.object({
  project: z.string().min(1),
  kind: z.enum(noteKinds),
  topic: topicName,
  /** Stored as sent (less outer whitespace); a heading holds one line. */
  title: z
    .string()
    .trim()
    .min(1, "Give the document a title")
    .max(200)
    .refine(
      (title) => !lineTerminator.test(title),
      "one line: no line breaks, U+2028 or U+2029",
    ),
  /** Line breaks become \n; blank lines around it are cut, the first
   * line's indentation is kept. */
  body: z
    .string()
    .max(200_000)
    .overwrite(trimBlankLines)
    .min(1, "Write the document's body"),
  /** The document this one replaces: its id (exactly that version), or
   * its topic (whichever document is the topic's canonical one when the
   * write's turn comes). */
  supersedes: z.string().trim().min(1).max(200).optional(),
});

export const noteIdInput = z.object({
  project: z.string().min(1),
  documentId: z.uuid(),
});

export const patchNoteSectionInput = noteIdInput.extend({
  /** The heading's text ("Rollback") or its path ("Deploys > Rollback"). */
  heading: z.string().trim().min(1, "Name the heading").max(1000),
  /** The section's new body, without its heading line. */
  body: z
    .string()
    .max(200_000)
    .refine(
      (body) => !leavesFenceOpen(body),
      "the body opens a code fence it does not close; left open it would " +
        "swallow the sections after this one",
    ),
});

export interface NotePointer {
  id: string;
  path: string;
  title: string;
}

export interface NoteView extends NotePointer {
  source: string;
  version: string;
  topic: string | null;
  kind: string | null;
  status: string;
  statusReason: string | null;
  canonicalDocumentId: string | null;
  deleted: boolean;
  deletedAt: Date | null;
  tokens: number;
  indexedAt: Date;
}

export interface NoteVersion {
  number: number;
  change: string;
  /** The heading path a patch replaced the body of. */
  heading: string | null;
  title: string;
  tokens: number;
  author: string;
  createdAt: Date;
  text: string;
}

export interface NoteDetail extends NoteView {
  sections: Array<{
    id: string;
    heading: string;
    headingPath: string;
    level: number;
    line: number;
    tokens: number;
    text: string;
  }>;
  /** This document's texts, oldest first; empty for an indexed file. */
  versions: NoteVersion[];
  /** Every document of the topic (the ones it superseded, and the one
   * that superseded it), oldest first. */
  topicDocuments: Array<
    NotePointer & { version: string; status: string; deleted: boolean }
  >;
}

const noteColumns = {
  id: contextDocuments.id,
  source: contextDocuments.source,
  version: contextDocuments.version,
  path: contextDocuments.path,
  title: contextDocuments.title,
  topic: contextDocuments.topic,
  kind: contextDocuments.kind,
  status: contextDocuments.status,
  statusReason: contextDocuments.statusReason,
  canonicalDocumentId: contextDocuments.canonicalDocumentId,
  deletedAt: contextDocuments.deletedAt,
  tokens: contextDocuments.tokens,
  indexedAt: contextDocuments.indexedAt,
};

type NoteRow = Omit<NoteView, "deleted">;

const view = (row: NoteRow): NoteView => ({
  ...row,
  deleted: row.deletedAt !== null,
});

const pointerOf = (row: NotePointer): NotePointer => ({
  id: row.id,
  path: row.path,
  title: row.title,
});

const notePath = (kind: string, topic: string) => `notes/${kind}/${topic}.md`;

async function loadDocument(
  db: Database,
  projectId: string,
  documentId: string,
): Promise<NoteRow> {
  const [row] = await db
    .select(noteColumns)
    .from(contextDocuments)
    .where(
      and(
        eq(contextDocuments.id, documentId),
        eq(contextDocuments.projectId, projectId),
      ),
    )
    .limit(1);
  if (!row) throw notFound("Document", documentId);

  return row;
}

/** Refuses changes to files indexed from a repository. */
function assertWritable(row: NoteRow) {
  if (row.source !== AGENT_NOTES_SOURCE || row.topic === null) {
    throw conflict(
      `Document ${row.path} is indexed from source ${row.source}; change ` +
        "the file in its repository and index it again",
      { document: pointerOf(row), source: row.source },
    );
  }
}

/** The live canonical document of a topic, if any. */
async function canonicalOfTopic(
  db: Database,
  projectId: string,
  topic: string,
): Promise<NoteRow | null> {
  const [row] = await db
    .select(noteColumns)
    .from(contextDocuments)
    .where(
      and(
        eq(contextDocuments.projectId, projectId),
        eq(contextDocuments.topic, topic),
        eq(contextDocuments.status, "canonical"),
        isNull(contextDocuments.deletedAt),
      ),
    )
    .limit(1);

  return row ?? null;
}

function topicTaken(topic: string, current: NotePointer) {
  return conflict(
    `Topic ${topic} already has a canonical document, ${current.path} ` +
      `("${current.title}"); pass supersedes: "${current.id}" to replace it`,
    { topic, canonical: pointerOf(current) },
  );
}

const ofTopic = alias(contextDocuments, "of_topic");

const supersededReason = (by: NoteRow) =>
  `superseded by "${by.title}" (${by.path}, version ${by.version}, ` +
  `document ${by.id})`;

/** Points the documents superseded by any document of a topic at the
 * topic's live canonical one, or at nothing while it has none (its
 * canonical was deleted), so none is shown as replaced by a deleted
 * document. Those left pointing at nothing are picked up again by the
 * topic's next canonical. Run after every write, delete and restore. */
async function relinkSuperseded(
  tx: Database,
  projectId: string,
  topic: string,
) {
  const canonical = await canonicalOfTopic(tx, projectId, topic);
  await tx
    .update(contextDocuments)
    .set({
      canonicalDocumentId: canonical?.id ?? null,
      statusReason: canonical
        ? supersededReason(canonical)
        : "superseded; the document that replaced it was deleted and " +
          `topic ${topic} has no canonical document now`,
    })
    .where(
      and(
        eq(contextDocuments.projectId, projectId),
        eq(contextDocuments.source, AGENT_NOTES_SOURCE),
        eq(contextDocuments.status, "superseded"),
        sql`${contextDocuments.canonicalDocumentId} is distinct from ${canonical?.id ?? null}`,
        or(
          and(
            isNull(contextDocuments.canonicalDocumentId),
            eq(contextDocuments.topic, topic),
          ),
          inArray(
            contextDocuments.canonicalDocumentId,
            tx
              .select({ id: ofTopic.id })
              .from(ofTopic)
              .where(
                and(eq(ofTopic.projectId, projectId), eq(ofTopic.topic, topic)),
              ),
          ),
        ),
      ),
    );
}

/** Serialises writes of the given topics for the rest of the transaction,
 * locking in sorted order so two writers never wait on each other. */
async function lockTopics(tx: Database, projectId: string, topics: string[]) {
  for (const topic of [...new Set(topics)].sort()) {
    await queryRows(
      tx,
      sql`select pg_advisory_xact_lock(hashtext(${`flotilla:note:${projectId}:${topic}`}))`,
    );
  }
}

async function startChange(db: Database, actor: Actor, slug: string) {
  const { project } = await requireProjectRole(db, actor, slug, "operator");
  // A paused agent is refused here as everywhere else it acts.
  if (actor.kind === "agent") await assertAgentActive(db, actor.agentId);

  return project;
}

async function storeVersion(
  tx: Database,
  actor: Actor,
  values: {
    projectId: string;
    documentId: string;
    number: number;
    change: "written" | "patched";
    heading: string | null;
    title: string;
    content: string;
    contentHash: string;
    tokens: number;
  },
) {
  await tx.insert(contextDocumentVersions).values({
    id: newId(),
    ...values,
    agentId: actor.kind === "agent" ? actor.agentId : null,
    actorLabel: actorLabel(actor),
    createdAt: now(),
  });
}

/** Resolves `supersedes` (an id or a topic) to the document it names,
 * which must be the live canonical agent-written one of `topic`. */
async function supersededTarget(
  db: Database,
  projectId: string,
  topic: string,
  supersedes: string,
): Promise<NoteRow> {
  const target = uuidPattern.test(supersedes)
    ? await loadDocument(db, projectId, supersedes.toLowerCase())
    : await canonicalOfTopic(db, projectId, supersedes.toLowerCase());
  if (!target) {
    throw new DomainError(
      "not_found",
      `No canonical document of topic ${supersedes} to supersede`,
      { supersedes },
    );
  }
  assertWritable(target);
  // Superseding across topics would leave the old topic with no canonical
  // document and the new one's chain pointing elsewhere.
  if (target.topic !== topic) {
    throw conflict(
      `supersedes names ${target.path}, a document of topic ` +
        `${target.topic}, not of topic ${topic}; write to topic ` +
        `${target.topic} to replace it`,
      { supersedes, topic: target.topic, document: pointerOf(target) },
    );
  }
  if (target.status !== "canonical" || target.deletedAt) {
    const state = target.deletedAt ? "deleted" : target.status;
    throw conflict(
      `Document ${target.path} is ${state}; only a topic's current ` +
        "document can be superseded",
      { document: pointerOf(target), status: state },
    );
  }

  return target;
}

/** Stores what an agent learned as a new canonical document of its topic,
 * superseding the topic's current one when asked to. */
export async function writeNote(
  db: Database,
  actor: Actor,
  input: z.input<typeof writeNoteInput>,
): Promise<{ document: NoteView; superseded: NotePointer | null }> {
  const values = parseInput(writeNoteInput, input);
  const project = await startChange(db, actor, values.project);
  const { kind, topic, title } = values;
  const content = noteContent(title, values.body);
  const named = values.supersedes;

  try {
    return await db.transaction(async (tx) => {
      // Writes of a topic take turns, so superseding by topic name
      // replaces the canonical document as the previous write left it,
      // and each response names the one document it replaced.
      await lockTopics(tx, project.id, [topic]);
      const current = await canonicalOfTopic(tx, project.id, topic);
      const target = named
        ? await supersededTarget(tx, project.id, topic, named)
        : null;
      if (current && current.id !== target?.id) {
        throw topicTaken(topic, current);
      }

      const [{ latest }] = await queryRows<{ latest: number | null }>(
        tx,
        sql`select max(case when version ~ '^[0-9]+$' then version::int end)
              as latest
            from context_documents
           where project_id = ${project.id} and source = ${AGENT_NOTES_SOURCE}
             and topic = ${topic}`,
      );
      const version = String(Number(latest ?? 0) + 1);
      const id = newId();
      const path = notePath(kind, topic);
      const at = now();
      const { doc, fields } = sectionedFile(
        {
          path,
          content,
          modifiedAt: at,
          modifiedBy: actorLabel(actor),
          modifiedSource: "api",
        },
        at,
      );
      // The old document stops being canonical before the new one is, so
      // the one-canonical-per-topic index holds at every step.
      if (target) {
        await tx
          .update(contextDocuments)
          .set({ status: "superseded" })
          .where(eq(contextDocuments.id, target.id));
      }
      await tx.insert(contextDocuments).values({
        id,
        projectId: project.id,
        source: AGENT_NOTES_SOURCE,
        version,
        ...fields,
        // The title as sent; the heading line may hold an escaped form.
        title,
        topic,
        kind,
        status: "canonical",
        statusReason: null,
      });
      const written = await loadDocument(tx, project.id, id);
      if (target) {
        await tx
          .update(contextDocuments)
          .set({
            canonicalDocumentId: id,
            statusReason: supersededReason(written),
          })
          .where(eq(contextDocuments.id, target.id));
      }
      await relinkSuperseded(tx, project.id, topic);
      await replaceSections(tx, project.id, [{ id, doc }]);
      await storeVersion(tx, actor, {
        projectId: project.id,
        documentId: id,
        number: 1,
        change: "written",
        heading: null,
        title,
        content,
        contentHash: fields.contentHash,
        tokens: fields.tokens,
      });
      await recordAudit(tx, actor, {
        projectId: project.id,
        action: "context.note.write",
        targetType: "context_document",
        targetId: id,
        details: {
          topic,
          kind,
          path,
          version,
          tokens: fields.tokens,
          supersedes: target ? target.id : null,
        },
      });

      return {
        document: view(await loadDocument(tx, project.id, id)),
        superseded: target ? pointerOf(target) : null,
      };
    });
  } catch (error) {
    // A concurrent write won the topic between our check and insert.
    if (isUniqueViolation(error)) {
      const winner = await canonicalOfTopic(db, project.id, topic);
      if (winner) throw topicTaken(topic, winner);
    }
    throw error;
  }
}

/** A document with its sections, its texts so far and its topic's other
 * documents. Any document of the project can be read this way. */
export async function getNote(
  db: Database,
  actor: Actor,
  input: z.input<typeof noteIdInput>,
): Promise<NoteDetail> {
  const values = parseInput(noteIdInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );
  // A paused agent reads no context, here as through questions.
  if (actor.kind === "agent") await assertAgentActive(db, actor.agentId);
  const row = await loadDocument(db, project.id, values.documentId);
  const sections = await db
    .select({
      id: contextSections.id,
      heading: contextSections.heading,
      headingPath: contextSections.headingPath,
      level: contextSections.level,
      line: contextSections.line,
      tokens: contextSections.tokens,
      text: contextSections.body,
    })
    .from(contextSections)
    .where(eq(contextSections.documentId, row.id))
    .orderBy(asc(contextSections.ordinal));
  const versions = await db
    .select({
      number: contextDocumentVersions.number,
      change: contextDocumentVersions.change,
      heading: contextDocumentVersions.heading,
      title: contextDocumentVersions.title,
      tokens: contextDocumentVersions.tokens,
      author: contextDocumentVersions.actorLabel,
      createdAt: contextDocumentVersions.createdAt,
      text: contextDocumentVersions.content,
    })
    .from(contextDocumentVersions)
    .where(eq(contextDocumentVersions.documentId, row.id))
    .orderBy(asc(contextDocumentVersions.number));
  const topicDocuments =
    row.topic === null
      ? []
      : await db
          .select({
            id: contextDocuments.id,
            path: contextDocuments.path,
            title: contextDocuments.title,
            version: contextDocuments.version,
            status: contextDocuments.status,
            deletedAt: contextDocuments.deletedAt,
          })
          .from(contextDocuments)
          .where(
            and(
              eq(contextDocuments.projectId, project.id),
              eq(contextDocuments.source, AGENT_NOTES_SOURCE),
              eq(contextDocuments.topic, row.topic),
            ),
          )
          .orderBy(asc(contextDocuments.indexedAt), asc(contextDocuments.id));

  return {
    ...view(row),
    sections,
    versions,
    topicDocuments: topicDocuments.map(({ deletedAt, ...other }) => ({
      ...other,
      deleted: deletedAt !== null,
    })),
  };
}

/** Replaces the body of one section of an agent-written document, found
 * by its heading; the text before is kept as the previous version. */
export async function patchNoteSection(
  db: Database,
  actor: Actor,
  input: z.input<typeof patchNoteSectionInput>,
) {
  const values = parseInput(patchNoteSectionInput, input);
  const project = await startChange(db, actor, values.project);

  return db.transaction(async (tx) => {
    // Concurrent patches of one document go one after another.
    await tx
      .select({ id: contextDocuments.id })
      .from(contextDocuments)
      .where(eq(contextDocuments.id, values.documentId))
      .for("update");
    const row = await loadDocument(tx, project.id, values.documentId);
    assertWritable(row);
    if (row.deletedAt || row.status !== "canonical") {
      const state = row.deletedAt ? "deleted" : row.status;
      throw conflict(
        `Document ${row.path} is ${state}; ` +
          (row.deletedAt
            ? "restore it before patching"
            : "patch the topic's current document instead"),
        {
          document: pointerOf(row),
          status: state,
          canonicalDocumentId: row.canonicalDocumentId,
        },
      );
    }
    const [latest] = await tx
      .select({
        number: contextDocumentVersions.number,
        content: contextDocumentVersions.content,
      })
      .from(contextDocumentVersions)
      .where(eq(contextDocumentVersions.documentId, row.id))
      .orderBy(desc(contextDocumentVersions.number))
      .limit(1);
    if (!latest) throw new Error(`Document ${row.id} has no stored text`);

    // Texts stored before line breaks were normalised may hold \r; the
    // sectioner's line numbers count it as a break, so the patch must too.
    const stored = normaliseLineBreaks(latest.content);
    const { sections } = sectionMarkdown(stored, row.path);
    const matches = matchHeading(sections, values.heading);
    if (matches.length === 0) {
      throw new DomainError(
        "not_found",
        `Heading "${values.heading}" was not found in ${row.path}`,
        {
          heading: values.heading,
          headings: sections
            .filter((s) => s.level > 0)
            .map((s) => s.headingPath),
        },
      );
    }
    if (matches.length > 1) {
      throw conflict(
        `Heading "${values.heading}" matches ${matches.length} sections ` +
          `of ${row.path}; name one by its heading path`,
        {
          heading: values.heading,
          candidates: matches.map((s) => ({
            headingPath: s.headingPath,
            line: s.line,
          })),
        },
      );
    }
    const [section] = matches;
    const content = replaceSectionBody(stored, sections, section, values.body);
    if (content === stored) {
      return {
        document: view(row),
        heading: section.headingPath,
        version: latest.number,
        changed: false,
      };
    }

    const at = now();
    const { doc, fields } = sectionedFile(
      {
        path: row.path,
        content,
        modifiedAt: at,
        modifiedBy: actorLabel(actor),
        modifiedSource: "api",
      },
      at,
    );
    // The title stays as sent; the sectioner reads the escaped heading.
    const { path: _path, title: _title, ...changed } = fields;
    await tx
      .update(contextDocuments)
      .set(changed)
      .where(eq(contextDocuments.id, row.id));
    await replaceSections(tx, project.id, [{ id: row.id, doc }]);
    const number = latest.number + 1;
    await storeVersion(tx, actor, {
      projectId: project.id,
      documentId: row.id,
      number,
      change: "patched",
      heading: section.headingPath,
      title: row.title,
      content,
      contentHash: fields.contentHash,
      tokens: fields.tokens,
    });
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "context.note.patch",
      targetType: "context_document",
      targetId: row.id,
      details: {
        topic: row.topic,
        path: row.path,
        heading: section.headingPath,
        version: number,
        tokensBefore: row.tokens,
        tokensAfter: fields.tokens,
      },
    });

    return {
      document: view(await loadDocument(tx, project.id, row.id)),
      heading: section.headingPath,
      version: number,
      changed: true,
    };
  });
}

/** Soft-deletes an agent-written document: it stays listed, marked
 * deleted, and no longer answers questions. Deleting twice is a no-op. */
export async function deleteNote(
  db: Database,
  actor: Actor,
  input: z.input<typeof noteIdInput>,
): Promise<{ document: NoteView }> {
  const values = parseInput(noteIdInput, input);
  const project = await startChange(db, actor, values.project);
  const first = await loadDocument(db, project.id, values.documentId);
  assertWritable(first);

  return db.transaction(async (tx) => {
    await lockTopics(tx, project.id, [first.topic ?? ""]);
    const row = await loadDocument(tx, project.id, values.documentId);
    if (row.deletedAt) return { document: view(row) };
    await tx
      .update(contextDocuments)
      .set({ deletedAt: now() })
      .where(eq(contextDocuments.id, row.id));
    await relinkSuperseded(tx, project.id, first.topic ?? "");
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "context.note.delete",
      targetType: "context_document",
      targetId: row.id,
      details: { topic: row.topic, path: row.path, status: row.status },
    });

    return { document: view(await loadDocument(tx, project.id, row.id)) };
  });
}

/** Brings a deleted document back; refused when it is not deleted, and
 * when its topic has gained another canonical document in the meantime. */
export async function restoreNote(
  db: Database,
  actor: Actor,
  input: z.input<typeof noteIdInput>,
): Promise<{ document: NoteView }> {
  const values = parseInput(noteIdInput, input);
  const project = await startChange(db, actor, values.project);
  const first = await loadDocument(db, project.id, values.documentId);
  assertWritable(first);
  const topic = first.topic ?? "";

  try {
    return await db.transaction(async (tx) => {
      await lockTopics(tx, project.id, [topic]);
      const row = await loadDocument(tx, project.id, values.documentId);
      if (!row.deletedAt) {
        throw conflict(
          `Document ${row.path} is not deleted; there is nothing to restore`,
          { document: pointerOf(row), deleted: false },
        );
      }
      if (row.status === "canonical") {
        const current = await canonicalOfTopic(tx, project.id, topic);
        if (current) throw topicTaken(topic, current);
      }
      await tx
        .update(contextDocuments)
        .set({ deletedAt: null })
        .where(eq(contextDocuments.id, row.id));
      await relinkSuperseded(tx, project.id, topic);
      await recordAudit(tx, actor, {
        projectId: project.id,
        action: "context.note.restore",
        targetType: "context_document",
        targetId: row.id,
        details: { topic, path: row.path, status: row.status },
      });

      return { document: view(await loadDocument(tx, project.id, row.id)) };
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      const winner = await canonicalOfTopic(db, project.id, topic);
      if (winner) throw topicTaken(topic, winner);
    }
    throw error;
  }
}
