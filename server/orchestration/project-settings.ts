import { z } from "zod";
import { type Database, inTransaction } from "@/db/client";
import { orchestrationSettings } from "@/db/schema";
import { invalidInput } from "@/server/errors";
import { requireProjectRole } from "@/server/identity/access";
import type { Actor, Role } from "@/server/identity/actor";
import { recordAudit } from "@/server/identity/audit";
import { parseInput } from "@/server/input";
import {
  approvalSettingsFields,
  approvalSettingsFor,
  type ApprovalSettings,
} from "@/server/guardrails/approval-settings";
import { now } from "@/server/runtime";
import {
  orchestrationSettingsFor,
  type OrchestrationSettings,
} from "./settings";

// The orchestration settings page: anyone in the project reads them, an
// admin changes them. Claims and the lease sweeper read the stored values
// through orchestrationSettingsFor.

const leaseSeconds = z
  .number({ error: "Must be a whole number of seconds" })
  .int("Must be a whole number of seconds")
  .min(10, "Must be at least 10 seconds")
  .max(86_400, "Must be at most 86400 seconds (one day)");

export const projectSettingsInput = z.object({ project: z.string().min(1) });

export const updateOrchestrationSettingsInput = z
  .object({
    project: z.string().min(1),
    maxAttempts: z
      .number({ error: "Must be a whole number" })
      .int("Must be a whole number")
      .min(1, "Must be at least 1")
      .max(20, "Must be at most 20")
      .optional(),
    defaultLeaseSeconds: leaseSeconds.optional(),
    maxLeaseSeconds: leaseSeconds.optional(),
    // Plan approval thresholds and the "ask" timeout (the approvals queue).
    ...approvalSettingsFields,
  })
  .strict();

export interface OrchestrationSettingsView
  extends OrchestrationSettings, ApprovalSettings {
  /** Whether the caller may change them. */
  canEdit: boolean;
}

export async function getOrchestrationSettings(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<OrchestrationSettingsView> {
  const values = parseInput(projectSettingsInput, input);
  const { project, role } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );
  const settings = await orchestrationSettingsFor(db, project.id);
  const approvals = await approvalSettingsFor(db, project.id);

  return {
    ...settings,
    ...approvals,
    canEdit: role === ("admin" satisfies Role),
  };
}

/** Changes the fields given, keeping the others; the default lease may not
 * be longer than the maximum. Audited with the values before and after. */
export async function updateOrchestrationSettings(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<OrchestrationSettingsView> {
  const values = parseInput(updateOrchestrationSettingsInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "admin",
  );

  return inTransaction(db, async (tx) => {
    const before = await orchestrationSettingsFor(tx, project.id);
    const after: OrchestrationSettings = {
      maxAttempts: values.maxAttempts ?? before.maxAttempts,
      defaultLeaseSeconds:
        values.defaultLeaseSeconds ?? before.defaultLeaseSeconds,
      maxLeaseSeconds: values.maxLeaseSeconds ?? before.maxLeaseSeconds,
    };
    if (after.defaultLeaseSeconds > after.maxLeaseSeconds) {
      throw leaseOrderRefusal(after, values.defaultLeaseSeconds === undefined);
    }
    const approvalsBefore = await approvalSettingsFor(tx, project.id);
    const approvalsAfter: ApprovalSettings = {
      adminApprovalAboveUsd:
        values.adminApprovalAboveUsd === undefined
          ? approvalsBefore.adminApprovalAboveUsd
          : values.adminApprovalAboveUsd,
      protectedPaths: values.protectedPaths
        ? [...new Set(values.protectedPaths)]
        : approvalsBefore.protectedPaths,
      askTimeoutSeconds:
        values.askTimeoutSeconds ?? approvalsBefore.askTimeoutSeconds,
    };
    const stored = {
      ...after,
      adminApprovalAboveUsd:
        approvalsAfter.adminApprovalAboveUsd === null
          ? null
          : approvalsAfter.adminApprovalAboveUsd.toFixed(4),
      protectedPaths: approvalsAfter.protectedPaths,
      askTimeoutSeconds: approvalsAfter.askTimeoutSeconds,
    };
    const at = now();
    await tx
      .insert(orchestrationSettings)
      .values({ projectId: project.id, ...stored, updatedAt: at })
      .onConflictDoUpdate({
        target: orchestrationSettings.projectId,
        set: { ...stored, updatedAt: at },
      });
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "orchestration.settings",
      targetType: "project",
      targetId: project.id,
      details: {
        before: { ...before, ...approvalsBefore },
        after: { ...after, ...approvalsAfter },
      },
    });

    return { ...after, ...approvalsAfter, canEdit: true };
  });
}

/** The default lease is longer than the maximum: names the field the
 * caller changed (the maximum, when only it was sent). */
function leaseOrderRefusal(after: OrchestrationSettings, maxOnly: boolean) {
  const issue = maxOnly
    ? {
        path: "maxLeaseSeconds",
        message:
          "Must be at least the default lease " +
          `(${after.defaultLeaseSeconds} seconds)`,
      }
    : {
        path: "defaultLeaseSeconds",
        message:
          "Must be at most the maximum lease " +
          `(${after.maxLeaseSeconds} seconds)`,
      };

  return invalidInput(`Invalid input: ${issue.path}: ${issue.message}`, [
    issue,
  ]);
}
