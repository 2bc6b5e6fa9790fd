import { and, desc, eq, lt } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client";
import { auditLog } from "@/db/schema";
import { now } from "@/server/runtime";
import { actorId, actorLabel, type Actor } from "./actor";
import { requireProjectRole } from "./access";
import { parseInput } from "@/server/input";

export interface AuditEntry {
  projectId?: string | null;
  action: string;
  targetType?: string;
  targetId?: string;
  details?: Record<string, unknown>;
}

/** Appends one row to the audit log; call it inside the same transaction
 * as the change it records. */
export async function recordAudit(
  db: Database,
  actor: Actor,
  entry: AuditEntry,
) {
  await db.insert(auditLog).values({
    projectId: entry.projectId ?? null,
    actorType: actor.kind,
    actorId: actorId(actor),
    actorLabel: actorLabel(actor),
    action: entry.action,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    details: entry.details ?? null,
    createdAt: now(),
  });
}

export const listAuditInput = z.object({
  project: z.string().min(1),
  limit: z.number().int().min(1).max(500).default(100),
  /** Rows older than this id, to page back through history. */
  before: z.number().int().positive().optional(),
});

/** The project's audit log, newest first. */
export async function listAudit(
  db: Database,
  actor: Actor,
  input: z.input<typeof listAuditInput>,
) {
  const values = parseInput(listAuditInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );
  const scope = values.before
    ? and(eq(auditLog.projectId, project.id), lt(auditLog.id, values.before))
    : eq(auditLog.projectId, project.id);

  return db
    .select()
    .from(auditLog)
    .where(scope)
    .orderBy(desc(auditLog.id))
    .limit(values.limit);
}
