import { and, asc, count, desc, eq } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client";
import { contextDocuments, contextSections } from "@/db/schema";
import { notFound } from "@/server/errors";
import type { Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { parseInput } from "@/server/input";

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

export async function listDocuments(
  db: Database,
  actor: Actor,
  input: z.input<typeof listDocumentsInput>,
): Promise<DocumentSummary[]> {
  const { project: slug, source } = parseInput(listDocumentsInput, input);
  const { project } = await requireProjectRole(db, actor, slug, "viewer");
  const rows = await db
    .select({
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
