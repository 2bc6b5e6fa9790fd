import type { Database } from "@/db/client";
import { auditLog } from "@/db/schema";
import { now } from "@/server/runtime";
import { actorId, actorLabel, type Actor } from "./actor";

export interface AuditEntry {
  projectId?: string | null;
  action: string;
  targetType?: string;
  targetId?: string;
  details?: Record<string, unknown>;
}

/** Appends one row to the audit log; call it inside the same transaction
 * as the change it records. */
export async function recordAudit(db: Database, actor: Actor, entry: AuditEntry) {
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
