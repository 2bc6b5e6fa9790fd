import { eq } from "drizzle-orm";
import { z } from "zod";
import { inTransaction, type Database } from "@/db/client";
import { projectPauses } from "@/db/schema";
import { actorLabel, type Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { recordAudit } from "@/server/identity/audit";
import { parseInput } from "@/server/input";
import { now } from "@/server/runtime";

// The project kill switch: while a project is paused, the policy refuses
// every claim and every tool decision in it with the reason given here.

const projectInput = z.object({ project: z.string().min(1) });

export const pauseProjectInput = z.object({
  project: z.string().min(1),
  reason: z
    .string()
    .trim()
    .min(1, "Say why the project is paused; agents are told the reason")
    .max(500, "Reason must be at most 500 characters"),
});

export interface ProjectPauseState {
  paused: boolean;
  reason: string | null;
  pausedBy: string | null;
  pausedAt: Date | null;
}

export async function readPause(
  db: Database,
  projectId: string,
): Promise<ProjectPauseState> {
  const [pause] = await db
    .select()
    .from(projectPauses)
    .where(eq(projectPauses.projectId, projectId))
    .limit(1);

  return pause
    ? {
        paused: true,
        reason: pause.reason,
        pausedBy: pause.pausedBy,
        pausedAt: pause.pausedAt,
      }
    : { paused: false, reason: null, pausedBy: null, pausedAt: null };
}

export async function projectPauseState(
  db: Database,
  actor: Actor,
  input: z.input<typeof projectInput>,
) {
  const values = parseInput(projectInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );

  return readPause(db, project.id);
}

/** Pauses the whole project; pausing again replaces the reason. */
export async function pauseProject(
  db: Database,
  actor: Actor,
  input: z.input<typeof pauseProjectInput>,
) {
  const values = parseInput(pauseProjectInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "operator",
  );

  return inTransaction(db, async (tx) => {
    const row = {
      projectId: project.id,
      reason: values.reason,
      pausedBy: actorLabel(actor),
      pausedAt: now(),
    };
    await tx
      .insert(projectPauses)
      .values(row)
      .onConflictDoUpdate({
        target: projectPauses.projectId,
        set: {
          reason: row.reason,
          pausedBy: row.pausedBy,
          pausedAt: row.pausedAt,
        },
      });
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "project.pause",
      targetType: "project",
      targetId: project.id,
      details: { reason: values.reason },
    });

    return readPause(tx, project.id);
  });
}

/** Resumes the project; resuming a project that is not paused changes
 * nothing and records nothing. */
export async function resumeProject(
  db: Database,
  actor: Actor,
  input: z.input<typeof projectInput>,
) {
  const values = parseInput(projectInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "operator",
  );

  return inTransaction(db, async (tx) => {
    const removed = await tx
      .delete(projectPauses)
      .where(eq(projectPauses.projectId, project.id))
      .returning();
    if (removed.length > 0) {
      await recordAudit(tx, actor, {
        projectId: project.id,
        action: "project.resume",
        targetType: "project",
        targetId: project.id,
        details: { wasPausedFor: removed[0].reason },
      });
    }

    return readPause(tx, project.id);
  });
}
