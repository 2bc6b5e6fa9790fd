import { eq, sql, type SQL } from "drizzle-orm";
import type { Database } from "@/db/client";
import { orchestrationSettings } from "@/db/schema";
import { now } from "@/server/runtime";

// Per-project orchestration settings, with defaults for projects that have
// never changed them.

/** Claims a task may use up before the lease sweeper marks it failed. */
export const DEFAULT_MAX_ATTEMPTS = 3;

/** SQL for the maximum attempts of the project whose id is `projectId`. */
export function maxAttemptsSql(projectId: SQL): SQL {
  return sql`coalesce((select s.max_attempts from orchestration_settings s
    where s.project_id = ${projectId}), ${DEFAULT_MAX_ATTEMPTS})`;
}

/** Lease length when a claim names none, and the longest allowed. */
export const DEFAULT_LEASE_SECONDS = 300;
export const DEFAULT_MAX_LEASE_SECONDS = 3600;

export interface OrchestrationSettings {
  maxAttempts: number;
  defaultLeaseSeconds: number;
  maxLeaseSeconds: number;
}

/** A project's settings, with the defaults where it never set them. */
export async function orchestrationSettingsFor(
  db: Database,
  projectId: string,
): Promise<OrchestrationSettings> {
  const [row] = await db
    .select({
      maxAttempts: orchestrationSettings.maxAttempts,
      defaultLeaseSeconds: orchestrationSettings.defaultLeaseSeconds,
      maxLeaseSeconds: orchestrationSettings.maxLeaseSeconds,
    })
    .from(orchestrationSettings)
    .where(eq(orchestrationSettings.projectId, projectId))
    .limit(1);

  return (
    row ?? {
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      defaultLeaseSeconds: DEFAULT_LEASE_SECONDS,
      maxLeaseSeconds: DEFAULT_MAX_LEASE_SECONDS,
    }
  );
}

/** Sets a project's maximum attempts directly, without a role check or
 * an audit entry: for tests that need a small maximum. People change
 * settings through updateOrchestrationSettings (project-settings.ts). */
export async function setMaxAttempts(
  db: Database,
  projectId: string,
  maxAttempts: number,
): Promise<void> {
  const at = now();
  await db
    .insert(orchestrationSettings)
    .values({ projectId, maxAttempts, updatedAt: at })
    .onConflictDoUpdate({
      target: orchestrationSettings.projectId,
      set: { maxAttempts, updatedAt: at },
    });
}
