import {
  and,
  asc,
  count,
  desc,
  eq,
  ilike,
  isNotNull,
  isNull,
  ne,
  or,
  sql,
  type SQL,
} from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client";
import { contextDocuments, contextSections } from "@/db/schema";
import { notFound } from "@/server/errors";
import type { Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { parseInput } from "@/server/input";
import { getNote, type NoteDetail } from "./notes";
import { sectionParts } from "./sectioner";
import { declaredVersion } from "./status";

// Reading what is indexed, for the console.

export const listDocumentsInput = z.object({
  project: z.string().min(1),
  source: z.string().min(1).optional(),
});

export const getSectionInput = z.object({
  project: z.string().min(1),
  sectionId: z.uuid(),
});

export interface DocumentSummary {
  id: string;
  source: string;
  version: string;
  path: string;
  title: string;
  status: string;
  statusReason: string | null;
  /** Set when an operator pinned the status ("canonical" | "stale"). */
  statusOverride: string | null;
  sections: number;
  tokens: number;
  lines: number;
  indexedAt: Date;
  /** Set when an agent-written document was deleted (it answers no more). */
  deletedAt: Date | null;
}

/** The columns of a document's row that the document lists show. */
const documentColumns = {
  id: contextDocuments.id,
  source: contextDocuments.source,
  version: contextDocuments.version,
  path: contextDocuments.path,
  title: contextDocuments.title,
  status: contextDocuments.status,
  statusReason: contextDocuments.statusReason,
  statusOverride: contextDocuments.statusOverride,
  tokens: contextDocuments.tokens,
  lines: contextDocuments.lines,
  indexedAt: contextDocuments.indexedAt,
  deletedAt: contextDocuments.deletedAt,
};

export async function listDocuments(
  db: Database,
  actor: Actor,
  input: z.input<typeof listDocumentsInput>,
): Promise<DocumentSummary[]> {
  const { project: slug, source } = parseInput(listDocumentsInput, input);
  const { project } = await requireProjectRole(db, actor, slug, "viewer");
  const rows = await db
    .select({
      ...documentColumns,
      sections: count(contextSections.id),
    })
    .from(contextDocuments)
    .leftJoin(
      contextSections,
      eq(contextSections.documentId, contextDocuments.id),
    )
    .where(
      and(
        eq(contextDocuments.projectId, project.id),
        source ? eq(contextDocuments.source, source) : undefined,
      ),
    )
    .groupBy(contextDocuments.id)
    .orderBy(
      asc(contextDocuments.source),
      desc(contextDocuments.version),
      asc(contextDocuments.path),
    );

  return rows.map((row) => ({ ...row, sections: Number(row.sections) }));
}

export async function getSection(
  db: Database,
  actor: Actor,
  input: z.input<typeof getSectionInput>,
) {
  const { project: slug, sectionId } = parseInput(getSectionInput, input);
  const { project } = await requireProjectRole(db, actor, slug, "viewer");
  const [row] = await db
    .select({
      id: contextSections.id,
      heading: contextSections.heading,
      headingPath: contextSections.headingPath,
      level: contextSections.level,
      line: contextSections.line,
      text: contextSections.body,
      tokens: contextSections.tokens,
      path: contextDocuments.path,
      source: contextDocuments.source,
      documentTokens: contextDocuments.tokens,
      status: contextDocuments.status,
      statusReason: contextDocuments.statusReason,
    })
    .from(contextSections)
    .innerJoin(
      contextDocuments,
      eq(contextDocuments.id, contextSections.documentId),
    )
    .where(
      and(
        eq(contextSections.id, sectionId),
        eq(contextSections.projectId, project.id),
      ),
    )
    .limit(1);
  if (!row) throw notFound("Section", sectionId);

  return row;
}

// ------------------------------------------------------------ browsing

export const browseDocumentsInput = z.object({
  project: z.string().min(1),
  source: z.string().trim().min(1).max(100).optional(),
  /** A release of the source; "" picks unversioned documents. */
  version: z.string().trim().max(50).optional(),
  status: z.enum(["canonical", "stale", "duplicate", "superseded"]).optional(),
  /** Part of the path or the title, any case. */
  path: z.string().trim().max(200).optional(),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(200).default(50),
});

export interface BrowsedDocument extends DocumentSummary {
  modifiedAt: Date | null;
  modifiedBy: string | null;
  modifiedSource: string | null;
}

export interface DocumentPage {
  documents: BrowsedDocument[];
  /** Documents matching every filter, across all pages. */
  total: number;
  /** Live documents per status under the other filters (status left
   * out), so the counts say what picking a status would show. A deleted
   * note has no status that counts: it is in `deleted` instead. */
  statusCounts: Record<string, number>;
  /** Deleted notes under the other filters; listed only with no status
   * filter, marked deleted. */
  deleted: number;
  /** Every source of the project with its versions, newest first. */
  sources: Array<{ source: string; versions: string[]; documents: number }>;
}

/** One page of a project's documents, filtered by source, version,
 * status and path, with the counts the console's filters show. */
export async function browseDocuments(
  db: Database,
  actor: Actor,
  input: z.input<typeof browseDocumentsInput>,
): Promise<DocumentPage> {
  const values = parseInput(browseDocumentsInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );
  const needle = values.path?.replace(/[\\%_]/g, (c) => `\\${c}`);
  const filters: Array<SQL | undefined> = [
    eq(contextDocuments.projectId, project.id),
    values.source ? eq(contextDocuments.source, values.source) : undefined,
    values.version !== undefined
      ? eq(contextDocuments.version, values.version)
      : undefined,
    needle
      ? or(
          ilike(contextDocuments.path, `%${needle}%`),
          ilike(contextDocuments.title, `%${needle}%`),
        )
      : undefined,
  ];
  const where = and(
    ...filters,
    ...(values.status
      ? [
          eq(contextDocuments.status, values.status),
          isNull(contextDocuments.deletedAt),
        ]
      : []),
  );

  const [counts, [{ total }], sources] = await Promise.all([
    db
      .select({
        status: sql<string>`case when ${contextDocuments.deletedAt} is null
          then ${contextDocuments.status} else 'deleted' end`,
        n: count(),
      })
      .from(contextDocuments)
      .where(and(...filters))
      .groupBy(sql`1`),
    db.select({ total: count() }).from(contextDocuments).where(where),
    db
      .select({
        source: contextDocuments.source,
        version: contextDocuments.version,
        n: count(),
      })
      .from(contextDocuments)
      .where(eq(contextDocuments.projectId, project.id))
      .groupBy(contextDocuments.source, contextDocuments.version)
      .orderBy(asc(contextDocuments.source), desc(contextDocuments.version)),
  ]);
  const page = await db
    .select({
      ...documentColumns,
      modifiedAt: contextDocuments.modifiedAt,
      modifiedBy: contextDocuments.modifiedBy,
      modifiedSource: contextDocuments.modifiedSource,
      // Spelled out: drizzle would leave the outer column unqualified.
      sections: sql<number>`(select count(*) from context_sections s
        where s.document_id = context_documents.id)`.mapWith(Number),
    })
    .from(contextDocuments)
    .where(where)
    .orderBy(
      asc(contextDocuments.source),
      desc(contextDocuments.version),
      asc(contextDocuments.path),
      asc(contextDocuments.id),
    )
    .offset(values.offset)
    .limit(values.limit);

  const bySource = new Map<
    string,
    { source: string; versions: string[]; documents: number }
  >();
  for (const row of sources) {
    const entry = bySource.get(row.source) ?? {
      source: row.source,
      versions: [],
      documents: 0,
    };
    entry.versions.push(row.version);
    entry.documents += Number(row.n);
    bySource.set(row.source, entry);
  }

  const live = counts.filter((row) => row.status !== "deleted");

  return {
    documents: page,
    total: Number(total),
    statusCounts: Object.fromEntries(
      live.map((row) => [row.status, Number(row.n)]),
    ),
    deleted: Number(counts.find((row) => row.status === "deleted")?.n ?? 0),
    sources: [...bySource.values()],
  };
}

// ------------------------------------------------------------ one document

export const getDocumentInput = z.object({
  project: z.string().min(1),
  documentId: z.uuid(),
});

interface DocumentLink {
  id: string;
  source: string;
  version: string;
  path: string;
  title: string;
  status: string;
  statusReason: string | null;
  deletedAt: Date | null;
}

export interface DocumentDetail extends Omit<NoteDetail, "sections"> {
  frontMatter: Record<string, unknown> | null;
  /** The front matter's `version`, when it declares one. */
  declaredVersion: string | null;
  statusOverride: string | null;
  modifiedAt: Date | null;
  modifiedBy: string | null;
  modifiedSource: string | null;
  lines: number;
  /** The current document this one is a copy of, or superseded by. */
  canonical: DocumentLink | null;
  /** Stale copies, duplicates and superseded documents pointing here. */
  copies: DocumentLink[];
  sections: Array<
    NoteDetail["sections"][number] & {
      part: number;
      parts: number;
    }
  >;
}

const linkColumns = {
  id: contextDocuments.id,
  source: contextDocuments.source,
  version: contextDocuments.version,
  path: contextDocuments.path,
  title: contextDocuments.title,
  status: contextDocuments.status,
  statusReason: contextDocuments.statusReason,
  deletedAt: contextDocuments.deletedAt,
};

/** A document for its console page: metadata, status and reason, its
 * sections (part k of n for long ones), the documents linked to it by
 * status, and an agent-written document's versions. */
export async function getDocument(
  db: Database,
  actor: Actor,
  input: z.input<typeof getDocumentInput>,
): Promise<DocumentDetail> {
  const values = parseInput(getDocumentInput, input);
  const note = await getNote(db, actor, values);
  const [row] = await db
    .select({
      projectId: contextDocuments.projectId,
      frontMatter: contextDocuments.frontMatter,
      statusOverride: contextDocuments.statusOverride,
      modifiedAt: contextDocuments.modifiedAt,
      modifiedBy: contextDocuments.modifiedBy,
      modifiedSource: contextDocuments.modifiedSource,
      lines: contextDocuments.lines,
    })
    .from(contextDocuments)
    .where(eq(contextDocuments.id, note.id))
    .limit(1);
  if (!row) throw notFound("Document", values.documentId);
  const [canonical] = note.canonicalDocumentId
    ? await db
        .select(linkColumns)
        .from(contextDocuments)
        .where(eq(contextDocuments.id, note.canonicalDocumentId))
        .limit(1)
    : [];
  const copies = await db
    .select(linkColumns)
    .from(contextDocuments)
    .where(
      and(
        eq(contextDocuments.projectId, row.projectId),
        eq(contextDocuments.canonicalDocumentId, note.id),
        isNotNull(contextDocuments.canonicalDocumentId),
        ne(contextDocuments.id, note.id),
      ),
    )
    .orderBy(asc(contextDocuments.status), desc(contextDocuments.version));

  return {
    ...note,
    frontMatter: row.frontMatter,
    declaredVersion: declaredVersion(row.frontMatter),
    statusOverride: row.statusOverride,
    modifiedAt: row.modifiedAt,
    modifiedBy: row.modifiedBy,
    modifiedSource: row.modifiedSource,
    lines: row.lines,
    canonical: canonical ?? null,
    copies,
    sections: sectionParts(
      note.sections.map((section) => ({ ...section, body: section.text })),
    ).map(({ body: _body, ...section }) => section),
  };
}
