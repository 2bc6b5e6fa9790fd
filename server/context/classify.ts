import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client";
import { contextDocuments } from "@/db/schema";
import { notFound } from "@/server/errors";
import { actorLabel, type Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { recordAudit } from "@/server/identity/audit";
import { parseInput } from "@/server/input";
import { now } from "@/server/runtime";
import { contextSettingsFor } from "./settings";
import {
  classifyDocuments,
  type ClassifiedInput,
  type StatusOverride,
} from "./status";

// Stores the statuses classifyDocuments works out for one source, and the
// operator's override that beats them.

/** The source documents agents write back live in (./notes.ts). Their
 * statuses come from what the agents said (supersedes), not from rules. */
export const AGENT_NOTES_SOURCE = "agent-notes";

/** Front matter of a stored document that the status rules could not act
 * on (./status.ts). */
export interface StatusWarning {
  path: string;
  version: string;
  problem: string;
}

export interface SourceStatuses {
  /** The number of documents per status. */
  statuses: Record<string, number>;
  warnings: StatusWarning[];
}

/** Works out every status of a source again and writes the ones that
 * changed. */
export async function classifySource(
  db: Database,
  projectId: string,
  source: string,
): Promise<SourceStatuses> {
  if (source === AGENT_NOTES_SOURCE) return { statuses: {}, warnings: [] };
  const rows = await db
    .select({
      id: contextDocuments.id,
      path: contextDocuments.path,
      version: contextDocuments.version,
      title: contextDocuments.title,
      frontMatter: contextDocuments.frontMatter,
      signature: contextDocuments.signature,
      modifiedAt: contextDocuments.modifiedAt,
      modifiedBy: contextDocuments.modifiedBy,
      modifiedSource: contextDocuments.modifiedSource,
      indexedAt: contextDocuments.indexedAt,
      override: contextDocuments.statusOverride,
      overrideReason: contextDocuments.statusOverrideReason,
      status: contextDocuments.status,
      statusReason: contextDocuments.statusReason,
      canonicalDocumentId: contextDocuments.canonicalDocumentId,
    })
    .from(contextDocuments)
    .where(
      and(
        eq(contextDocuments.projectId, projectId),
        eq(contextDocuments.source, source),
      ),
    );
  const inputs: ClassifiedInput[] = rows.map((row) => ({
    id: row.id,
    path: row.path,
    version: row.version,
    title: row.title,
    frontMatter: row.frontMatter ?? null,
    signature: row.signature ?? [],
    modifiedAt: row.modifiedAt ?? row.indexedAt,
    modifiedBy: row.modifiedBy,
    modifiedSource: row.modifiedSource,
    override:
      row.override === "canonical" || row.override === "stale"
        ? row.override
        : null,
    overrideReason: row.overrideReason,
  }));
  const { staleAfterDays } = await contextSettingsFor(db, projectId);
  const classified = classifyDocuments(inputs, { staleAfterDays, now: now() });
  const counts: Record<string, number> = {};
  const warnings: StatusWarning[] = [];
  const changed = rows.flatMap((row) => {
    const next = classified.get(row.id);
    if (!next) return [];
    counts[next.status] = (counts[next.status] ?? 0) + 1;
    for (const problem of next.warnings ?? []) {
      warnings.push({ path: row.path, version: row.version, problem });
    }
    const same =
      next.status === row.status &&
      next.reason === row.statusReason &&
      next.canonicalId === row.canonicalDocumentId;

    return same
      ? []
      : [
          {
            id: row.id,
            status: next.status,
            reason: next.reason,
            canonicalId: next.canonicalId,
          },
        ];
  });
  if (changed.length > 0) {
    await db.transaction(async (tx) => {
      for (const change of changed) {
        await tx
          .update(contextDocuments)
          .set({
            status: change.status,
            statusReason: change.reason,
            canonicalDocumentId: change.canonicalId,
          })
          .where(eq(contextDocuments.id, change.id));
      }
    });
  }

  return { statuses: counts, warnings };
}

export const setDocumentStatusInput = z.object({
  project: z.string().min(1),
  documentId: z.uuid(),
  /** "auto" removes the override and lets the rules decide again. */
  status: z.enum(["canonical", "stale", "auto"]),
  reason: z.string().trim().max(500).optional(),
});

/** An operator pins a document canonical or marks it stale (or hands it
 * back to the rules); audited with the status before and after. */
export async function setDocumentStatus(
  db: Database,
  actor: Actor,
  input: z.input<typeof setDocumentStatusInput>,
) {
  const {
    project: slug,
    documentId,
    status,
    reason,
  } = parseInput(setDocumentStatusInput, input);
  const { project } = await requireProjectRole(db, actor, slug, "operator");
  const [document] = await db
    .select({
      id: contextDocuments.id,
      source: contextDocuments.source,
      path: contextDocuments.path,
      status: contextDocuments.status,
      statusReason: contextDocuments.statusReason,
    })
    .from(contextDocuments)
    .where(
      and(
        eq(contextDocuments.id, documentId),
        eq(contextDocuments.projectId, project.id),
      ),
    )
    .limit(1);
  if (!document) throw notFound("Document", documentId);
  const override: StatusOverride | null = status === "auto" ? null : status;
  const who = actorLabel(actor);
  const overrideReason = override
    ? `${override === "canonical" ? "pinned canonical" : "marked stale"} by ${who}` +
      (reason ? `: ${reason}` : "")
    : null;
  await db
    .update(contextDocuments)
    .set({ statusOverride: override, statusOverrideReason: overrideReason })
    .where(eq(contextDocuments.id, document.id));
  await classifySource(db, project.id, document.source);
  const [after] = await db
    .select({
      status: contextDocuments.status,
      statusReason: contextDocuments.statusReason,
    })
    .from(contextDocuments)
    .where(eq(contextDocuments.id, document.id));
  await recordAudit(db, actor, {
    projectId: project.id,
    action: "context.document.status",
    targetType: "context_document",
    targetId: document.id,
    details: {
      path: document.path,
      source: document.source,
      override: status,
      reason: reason ?? null,
      before: { status: document.status, reason: document.statusReason },
      after: { status: after?.status, reason: after?.statusReason },
    },
  });

  return {
    id: document.id,
    path: document.path,
    status: after?.status ?? document.status,
    statusReason: after?.statusReason ?? null,
  };
}
