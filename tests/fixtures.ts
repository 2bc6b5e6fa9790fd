import { eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { agents, apiTokens, projectMembers, projects, user } from "@/db/schema";
import { issueToken } from "@/server/identity/tokens";
import { newId, now } from "@/server/runtime";
import type { Actor } from "@/server/identity/actor";

// Rows tests need, written directly so a test depends only on what it
// exercises. Every call makes fresh rows with unique names.

export async function makeProject(
  db: Database,
  slug = `p-${newId().slice(0, 8)}`,
) {
  const [project] = await db
    .insert(projects)
    .values({ id: newId(), slug, name: `Project ${slug}`, createdAt: now() })
    .returning();

  return project;
}

export async function makeAgent(
  db: Database,
  projectId: string,
  name?: string,
) {
  const at = now();
  const [agent] = await db
    .insert(agents)
    .values({
      id: newId(),
      projectId,
      name: name ?? `agent-${newId().slice(0, 6)}`,
      createdAt: at,
      updatedAt: at,
    })
    .returning();
  const { secret, token } = await issueToken(db, {
    kind: "agent",
    name: "test",
    projectId,
    agentId: agent.id,
    createdBy: "test",
  });
  const actor: Extract<Actor, { kind: "agent" }> = {
    kind: "agent",
    agentId: agent.id,
    agentName: agent.name,
    projectId,
    tokenId: token.id,
  };

  return { agent, secret, token, actor };
}

export async function makeUser(
  db: Database,
  role: "admin" | "operator" | "viewer" = "operator",
) {
  const at = now();
  const id = newId();
  const [person] = await db
    .insert(user)
    .values({
      id,
      name: `User ${id.slice(0, 4)}`,
      email: `${id.slice(0, 8)}@example.test`,
      role,
      createdAt: at,
      updatedAt: at,
    })
    .returning();
  const { secret, token } = await issueToken(db, {
    kind: "personal",
    name: "test",
    userId: person.id,
    createdBy: "test",
  });
  const actor: Extract<Actor, { kind: "user" }> = {
    kind: "user",
    userId: person.id,
    email: person.email,
    instanceRole: role,
    via: "token",
  };

  return { user: person, secret, token, actor };
}

/** Makes `userId` a member of the project with `role`. */
export async function addMember(
  db: Database,
  projectId: string,
  userId: string,
  role: "admin" | "operator" | "viewer",
) {
  await db
    .insert(projectMembers)
    .values({ projectId, userId, role, createdAt: now() });
}

export async function revokeToken(db: Database, tokenId: string) {
  await db
    .update(apiTokens)
    .set({ revokedAt: now() })
    .where(eq(apiTokens.id, tokenId));
}
