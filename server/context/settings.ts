import { and, eq, ne } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client";
import { contextDocuments, contextSettings } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { recordAudit } from "@/server/identity/audit";
import { parseInput } from "@/server/input";
import { now } from "@/server/runtime";
import { AGENT_NOTES_SOURCE, classifySource } from "./classify";

// Per-project context settings. For now one: the age after which an
// unchanged document is flagged as possibly stale (see ageRule in
// ./status.ts). A project without a row has no age rule.

export interface ContextSettings {
  /** Null: documents are never flagged for their age. */
  staleAfterDays: number | null;
}

export const contextSettingsInput = z.object({ project: z.string().min(1) });

export const updateContextSettingsInput = z.object({
  project: z.string().min(1),
  staleAfterDays: z
    .number()
    .int("Whole days")
    .min(1, "At least one day")
    .max(36_500, "At most 100 years")
    .nullable(),
});

export async function contextSettingsFor(
  db: Database,
  projectId: string,
): Promise<ContextSettings> {
  const [row] = await db
    .select({ staleAfterDays: contextSettings.staleAfterDays })
    .from(contextSettings)
    .where(eq(contextSettings.projectId, projectId))
    .limit(1);

  return { staleAfterDays: row?.staleAfterDays ?? null };
}

export async function getContextSettings(
  db: Database,
  actor: Actor,
  input: z.input<typeof contextSettingsInput>,
): Promise<ContextSettings> {
  const values = parseInput(contextSettingsInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );

  return contextSettingsFor(db, project.id);
}

/** An admin sets the age limit; every source's statuses are worked out
 * again at once, so the console shows the effect. Audited. */
export async function updateContextSettings(
  db: Database,
  actor: Actor,
  input: z.input<typeof updateContextSettingsInput>,
): Promise<ContextSettings & { statuses: Record<string, number> }> {
  const values = parseInput(updateContextSettingsInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "admin",
  );
  const before = await contextSettingsFor(db, project.id);
  const at = now();
  await db
    .insert(contextSettings)
    .values({
      projectId: project.id,
      staleAfterDays: values.staleAfterDays,
      updatedAt: at,
    })
    .onConflictDoUpdate({
      target: contextSettings.projectId,
      set: { staleAfterDays: values.staleAfterDays, updatedAt: at },
    });

  const sources = await db
    .selectDistinct({ source: contextDocuments.source })
    .from(contextDocuments)
    .where(
      and(
        eq(contextDocuments.projectId, project.id),
        ne(contextDocuments.source, AGENT_NOTES_SOURCE),
      ),
    );
  const statuses: Record<string, number> = {};
  for (const { source } of sources) {
    const { statuses: counts } = await classifySource(db, project.id, source);
    for (const [status, n] of Object.entries(counts)) {
      statuses[status] = (statuses[status] ?? 0) + n;
    }
  }
  await recordAudit(db, actor, {
    projectId: project.id,
    action: "context.settings",
    targetType: "project",
    targetId: project.id,
    details: {
      before: { staleAfterDays: before.staleAfterDays },
      after: { staleAfterDays: values.staleAfterDays },
      statuses,
    },
  });

  return { staleAfterDays: values.staleAfterDays, statuses };
}
