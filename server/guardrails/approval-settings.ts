import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client";
import { orchestrationSettings } from "@/db/schema";

// The project settings the approvals queue reads: when a plan needs an
// admin rather than an operator, and how long an "ask" waits for a person.
// Stored on orchestration_settings; changed on the project settings page.

/** How long an "ask" decision waits for a person when never set. */
export const DEFAULT_ASK_TIMEOUT_SECONDS = 600;

export interface ApprovalSettings {
  /** Plans estimated above this need an admin; null: no threshold. */
  adminApprovalAboveUsd: number | null;
  /** Path globs a plan may touch only with an admin's approval. */
  protectedPaths: string[];
  askTimeoutSeconds: number;
}

export async function approvalSettingsFor(
  db: Database,
  projectId: string,
): Promise<ApprovalSettings> {
  const [row] = await db
    .select({
      adminApprovalAboveUsd: orchestrationSettings.adminApprovalAboveUsd,
      protectedPaths: orchestrationSettings.protectedPaths,
      askTimeoutSeconds: orchestrationSettings.askTimeoutSeconds,
    })
    .from(orchestrationSettings)
    .where(eq(orchestrationSettings.projectId, projectId))
    .limit(1);

  return {
    adminApprovalAboveUsd:
      row?.adminApprovalAboveUsd === null ||
      row?.adminApprovalAboveUsd === undefined
        ? null
        : Number(row.adminApprovalAboveUsd),
    protectedPaths: row?.protectedPaths ?? [],
    askTimeoutSeconds: row?.askTimeoutSeconds ?? DEFAULT_ASK_TIMEOUT_SECONDS,
  };
}

/** The fields of the settings update that change these, all optional. */
export const approvalSettingsFields = {
  adminApprovalAboveUsd: z
    .number({ error: "Must be a number of dollars" })
    .min(0, "Must be 0 or more")
    .max(1_000_000, "Must be at most 1000000")
    .multipleOf(0.01, "Must have at most 2 decimals")
    .nullable()
    .optional(),
  protectedPaths: z
    .array(
      z
        .string()
        .trim()
        .min(1, "A protected path may not be empty")
        .max(300, "A protected path must be at most 300 characters"),
    )
    .max(100, "At most 100 protected paths")
    .optional(),
  askTimeoutSeconds: z
    .number({ error: "Must be a whole number of seconds" })
    .int("Must be a whole number of seconds")
    .min(10, "Must be at least 10 seconds")
    .max(86_400, "Must be at most 86400 seconds (one day)")
    .optional(),
};
