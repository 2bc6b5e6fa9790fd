import { and, eq, or } from "drizzle-orm";
import type { Database } from "@/db/client";
import { projectMembers, projects } from "@/db/schema";
import { forbidden, notFound } from "@/server/errors";
import { roleAtLeast, type Actor, type Role } from "./actor";

export type Project = typeof projects.$inferSelect;

const uuidPattern =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function findProject(db: Database, slugOrId: string) {
  const match = uuidPattern.test(slugOrId)
    ? or(eq(projects.id, slugOrId), eq(projects.slug, slugOrId))
    : eq(projects.slug, slugOrId);
  const [project] = await db.select().from(projects).where(match).limit(1);
  if (!project) throw notFound("Project", slugOrId);

  return project;
}

/** The role an actor holds in a project; agents act as operators of their
 * own project only, the CLI (which holds the database) as admin. */
export async function projectRole(
  db: Database,
  actor: Actor,
  project: Project,
): Promise<Role | null> {
  if (actor.kind === "cli") return "admin";
  if (actor.kind === "agent") {
    return actor.projectId === project.id ? "operator" : null;
  }
  if (actor.instanceRole === "admin") return "admin";
  const [membership] = await db
    .select({ role: projectMembers.role })
    .from(projectMembers)
    .where(
      and(
        eq(projectMembers.projectId, project.id),
        eq(projectMembers.userId, actor.userId),
      ),
    )
    .limit(1);

  return (membership?.role as Role | undefined) ?? actor.instanceRole;
}

/** Loads a project and checks the actor holds at least `needed` in it. */
export async function requireProjectRole(
  db: Database,
  actor: Actor,
  slugOrId: string,
  needed: Role,
): Promise<{ project: Project; role: Role }> {
  const project = await findProject(db, slugOrId);
  const role = await projectRole(db, actor, project);
  if (!role) throw notFound("Project", slugOrId);
  if (!roleAtLeast(role, needed)) {
    throw forbidden(
      `This needs the ${needed} role in project ${project.slug}; you are ${role}`,
      { needed, role },
    );
  }

  return { project, role };
}

/** Instance admins and the local CLI manage users. */
export function requireInstanceAdmin(actor: Actor, what: string): void {
  if (actor.kind === "cli") return;
  if (actor.kind === "user" && actor.instanceRole === "admin") return;

  throw forbidden(`Only an instance admin may ${what}`);
}
