import { and, asc, desc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client";
import { contextDocuments, contextSections } from "@/db/schema";
import { notFound } from "@/server/errors";
import type { Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { parseInput } from "@/server/input";

// Reading one indexed document whole, by its path: for an agent that was
// pointed at a document (an answer's alternatives name path and line) and
// needs more than the one section an answer serves.

export const readDocumentInput = z.object({
  project: z.string().min(1),
  path: z
    .string()
    .trim()
    .min(1, "Name a document path")
    .max(1000)
    .transform((p) => p.replaceAll("\\", "/").replace(/^(\.\/|\/)+/, "")),
  source: z.string().trim().min(1).max(100).optional(),
});

export interface DocumentSection {
  id: string;
  heading: string;
  headingPath: string;
  level: number;
  line: number;
  tokens: number;
  text: string;
}

export interface ReadDocument {
  id: string;
  source: string;
  version: string;
  path: string;
  title: string;
  status: string;
  statusReason: string | null;
  tokens: number;
  lines: number;
  sections: DocumentSection[];
}

/**
 * The document at `path` with its sections in order. When several sources
 * or versions hold the path, a canonical copy wins, then the newest
 * indexed; `source` narrows the choice to one source.
 */
export async function readDocument(
  db: Database,
  actor: Actor,
  input: z.input<typeof readDocumentInput>,
): Promise<ReadDocument> {
  const values = parseInput(readDocumentInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );
  const [document] = await db
    .select({
      id: contextDocuments.id,
      source: contextDocuments.source,
      version: contextDocuments.version,
      path: contextDocuments.path,
      title: contextDocuments.title,
      status: contextDocuments.status,
      statusReason: contextDocuments.statusReason,
      tokens: contextDocuments.tokens,
      lines: contextDocuments.lines,
    })
    .from(contextDocuments)
    .where(
      and(
        eq(contextDocuments.projectId, project.id),
        eq(contextDocuments.path, values.path),
        values.source ? eq(contextDocuments.source, values.source) : undefined,
      ),
    )
    .orderBy(
      sql`(${contextDocuments.status} = 'canonical') desc`,
      desc(contextDocuments.indexedAt),
      asc(contextDocuments.source),
    )
    .limit(1);
  if (!document) throw notFound("Document", values.path);
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
    .where(eq(contextSections.documentId, document.id))
    .orderBy(asc(contextSections.ordinal));

  return { ...document, sections };
}
