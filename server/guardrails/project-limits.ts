import { eq } from "drizzle-orm";
import { z } from "zod";
import { inTransaction, type Database } from "@/db/client";
import { orchestrationSettings, projects } from "@/db/schema";
import { invalidInput } from "@/server/errors";
import { requireProjectRole } from "@/server/identity/access";
import type { Actor, Role } from "@/server/identity/actor";
import { recordAudit } from "@/server/identity/audit";
import { parseInput } from "@/server/input";
import { now } from "@/server/runtime";
import { maxActiveTasksSchema } from "./concurrency";
import { isKnownTimeZone } from "./periods";

// The project's time zone (budget periods start at its midnight) and its
// default limit on the tasks one agent may hold at once. Anyone in the
// project reads them; an admin changes them.

export const projectLimitsInput = z.object({ project: z.string().min(1) });

export const updateProjectLimitsInput = z
  .object({
    project: z.string().min(1),
    timeZone: z
      .string()
      .trim()
      .min(1, "Time zone is required, e.g. Europe/Paris or UTC")
      .max(64, "Time zone must be at most 64 characters")
      .optional(),
    /** null: agents hold any number of tasks unless they have their own. */
    maxActivePerAgent: maxActiveTasksSchema.nullable().optional(),
  })
  .strict();

export interface ProjectLimits {
  timeZone: string;
  maxActivePerAgent: number | null;
  canEdit: boolean;
}

async function readLimits(db: Database, projectId: string) {
  const [project] = await db
    .select({ timeZone: projects.timeZone })
    .from(projects)
    .where(eq(projects.id, projectId))
    .limit(1);
  const [settings] = await db
    .select({ maxActivePerAgent: orchestrationSettings.maxActivePerAgent })
    .from(orchestrationSettings)
    .where(eq(orchestrationSettings.projectId, projectId))
    .limit(1);

  return {
    timeZone: project?.timeZone ?? "UTC",
    maxActivePerAgent: settings?.maxActivePerAgent ?? null,
  };
}

export async function getProjectLimits(
  db: Database,
  actor: Actor,
  input: z.input<typeof projectLimitsInput>,
): Promise<ProjectLimits> {
  const values = parseInput(projectLimitsInput, input);
  const { project, role } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );

  return {
    ...(await readLimits(db, project.id)),
    canEdit: role === ("admin" satisfies Role),
  };
}

/** Changes the fields given; the time zone must be an IANA name the
 * database knows. Audited with the values before and after. */
export async function updateProjectLimits(
  db: Database,
  actor: Actor,
  input: z.input<typeof updateProjectLimitsInput>,
): Promise<ProjectLimits> {
  const values = parseInput(updateProjectLimitsInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "admin",
  );
  if (
    values.timeZone !== undefined &&
    !(await isKnownTimeZone(db, values.timeZone))
  ) {
    const message =
      `Unknown time zone '${values.timeZone}'; use an IANA name ` +
      "such as Europe/Paris, America/New_York or UTC";
    throw invalidInput(`Invalid input: timeZone: ${message}`, [
      { path: "timeZone", message },
    ]);
  }

  return inTransaction(db, async (tx) => {
    const before = await readLimits(tx, project.id);
    const after = {
      timeZone: values.timeZone ?? before.timeZone,
      maxActivePerAgent:
        values.maxActivePerAgent === undefined
          ? before.maxActivePerAgent
          : values.maxActivePerAgent,
    };
    const at = now();
    if (after.timeZone !== before.timeZone) {
      await tx
        .update(projects)
        .set({ timeZone: after.timeZone })
        .where(eq(projects.id, project.id));
    }
    if (after.maxActivePerAgent !== before.maxActivePerAgent) {
      // Only this column: the other settings keep their values.
      await tx
        .insert(orchestrationSettings)
        .values({
          projectId: project.id,
          maxActivePerAgent: after.maxActivePerAgent,
          updatedAt: at,
        })
        .onConflictDoUpdate({
          target: orchestrationSettings.projectId,
          set: { maxActivePerAgent: after.maxActivePerAgent, updatedAt: at },
        });
    }
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "project.limits",
      targetType: "project",
      targetId: project.id,
      details: { before, after },
    });

    return { ...after, canEdit: true };
  });
}
