import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import { type Database, inTransaction } from "@/db/client";
import { projectMembers, projects, user } from "@/db/schema";
import { DomainError, forbidden, isUniqueViolation } from "@/server/errors";
import { newId, now } from "@/server/runtime";
import { roleAtLeast, type Actor, type Role } from "./actor";
import { requireProjectRole, type Project } from "./access";
import { recordAudit } from "./audit";
import { parseInput } from "@/server/input";
import { slugSchema } from "./schemas";
import { findUserByEmail } from "./users";

// Projects group goals, agents, context and spend. Whoever creates one
// becomes its admin.

export const createProjectInput = z.object({
  slug: slugSchema,
  name: z
    .string()
    .trim()
    .max(100, "Name must be at most 100 characters")
    .optional(),
});

function slugTaken(slug: string) {
  return new DomainError("conflict", `Project ${slug} already exists`, [
    { path: "slug", message: "A project with this slug already exists" },
  ]);
}

export async function createProject(
  db: Database,
  actor: Actor,
  input: z.input<typeof createProjectInput>,
): Promise<Project> {
  if (actor.kind === "agent") throw forbidden("Agents may not create projects");
  if (actor.kind === "user" && !roleAtLeast(actor.instanceRole, "operator")) {
    throw forbidden("Viewers may not create projects");
  }
  const values = parseInput(createProjectInput, input);
  try {
    return await inTransaction(db, async (tx) => {
      const at = now();
      const [created] = await tx
        .insert(projects)
        .values({
          id: newId(),
          slug: values.slug,
          name: values.name || values.slug,
          createdAt: at,
        })
        .onConflictDoNothing({ target: projects.slug })
        .returning();
      if (!created) throw slugTaken(values.slug);
      if (actor.kind === "user") {
        await tx.insert(projectMembers).values({
          projectId: created.id,
          userId: actor.userId,
          role: "admin",
          createdAt: at,
        });
      }
      await recordAudit(tx, actor, {
        projectId: created.id,
        action: "project.create",
        targetType: "project",
        targetId: created.id,
        details: { slug: created.slug, name: created.name },
      });

      return created;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw slugTaken(values.slug);
    throw error;
  }
}

export interface VisibleProject extends Project {
  role: Role;
}

/** The projects an actor can open, each with the actor's role in it. A
 * user without a membership holds their instance role (see access.ts). */
export async function listProjects(
  db: Database,
  actor: Actor,
): Promise<VisibleProject[]> {
  const all = await db.select().from(projects).orderBy(asc(projects.slug));
  if (actor.kind === "cli") return all.map((p) => ({ ...p, role: "admin" }));
  if (actor.kind === "agent") {
    return all
      .filter((p) => p.id === actor.projectId)
      .map((p) => ({ ...p, role: "operator" }));
  }
  const memberships = await db
    .select({ projectId: projectMembers.projectId, role: projectMembers.role })
    .from(projectMembers)
    .where(eq(projectMembers.userId, actor.userId));
  const roles = new Map(memberships.map((m) => [m.projectId, m.role as Role]));

  return all.map((p) => ({
    ...p,
    role:
      actor.instanceRole === "admin"
        ? "admin"
        : (roles.get(p.id) ?? actor.instanceRole),
  }));
}

export const setMemberRoleInput = z.object({
  project: z.string().min(1),
  email: z.string(),
  role: z.enum(["admin", "operator", "viewer"]),
});

/** Gives a person a role in one project (admins only). */
export async function setMemberRole(
  db: Database,
  actor: Actor,
  input: z.input<typeof setMemberRoleInput>,
) {
  const values = parseInput(setMemberRoleInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "admin",
  );
  const person = await findUserByEmail(db, values.email);

  return inTransaction(db, async (tx) => {
    await tx
      .insert(projectMembers)
      .values({
        projectId: project.id,
        userId: person.id,
        role: values.role,
        createdAt: now(),
      })
      .onConflictDoUpdate({
        target: [projectMembers.projectId, projectMembers.userId],
        set: { role: values.role },
      });
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "member.set-role",
      targetType: "user",
      targetId: person.id,
      details: { email: person.email, role: values.role },
    });

    return { userId: person.id, email: person.email, role: values.role };
  });
}

/** The people with an explicit role in a project. */
export async function listMembers(
  db: Database,
  actor: Actor,
  input: { project: string },
) {
  const { project } = await requireProjectRole(
    db,
    actor,
    input.project,
    "viewer",
  );

  return db
    .select({
      userId: user.id,
      email: user.email,
      name: user.name,
      role: projectMembers.role,
      since: projectMembers.createdAt,
    })
    .from(projectMembers)
    .innerJoin(user, eq(user.id, projectMembers.userId))
    .where(and(eq(projectMembers.projectId, project.id)))
    .orderBy(asc(user.email));
}
