import fs from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { agents, goals, projects, taskLeases, tasks, user } from "@/db/schema";
import type { Actor, Role } from "@/server/identity/actor";
import { issueToken } from "@/server/identity/tokens";
import { newId, now } from "@/server/runtime";
import type { AgentActor } from "./ingest";

// Rows and inputs the observability tests share. Each test file makes its
// own project so suites never see each other's data.

// Real-shaped inputs (Claude Code hook bodies and transcript lines, OTLP
// payloads), kept with the tests so they run from any clone.
export const casesDir = path.resolve(
  import.meta.dirname,
  "..",
  "..",
  "tests",
  "cases",
);

export function readCase(relative: string): string {
  return fs.readFileSync(path.join(casesDir, relative), "utf8");
}

export function readJsonLines(relative: string): unknown[] {
  return readCase(relative)
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as unknown);
}

export async function makeProject(db: Database, slug: string) {
  const [project] = await db
    .insert(projects)
    .values({ id: newId(), slug, name: slug, createdAt: now() })
    .returning();

  return project;
}

export async function makeAgent(
  db: Database,
  projectId: string,
  name: string,
): Promise<{ actor: AgentActor; secret: string }> {
  const [agent] = await db
    .insert(agents)
    .values({
      id: newId(),
      projectId,
      name,
      createdAt: now(),
      updatedAt: now(),
    })
    .returning();
  const { token, secret } = await issueToken(db, {
    kind: "agent",
    name: `${name} token`,
    projectId,
    agentId: agent.id,
    createdBy: "test",
  });

  return {
    actor: {
      kind: "agent",
      agentId: agent.id,
      agentName: agent.name,
      projectId,
      tokenId: token.id,
    },
    secret,
  };
}

export async function pauseAgent(
  db: Database,
  agentId: string,
  reason: string,
) {
  await db
    .update(agents)
    .set({ status: "paused", pausedReason: reason })
    .where(eq(agents.id, agentId));
}

export async function makePerson(
  db: Database,
  email: string,
  role: Role,
): Promise<{ actor: Extract<Actor, { kind: "user" }>; secret: string }> {
  const id = newId();
  await db.insert(user).values({
    id,
    name: email,
    email,
    role,
    createdAt: now(),
    updatedAt: now(),
  });
  const { secret } = await issueToken(db, {
    kind: "personal",
    name: "read api",
    userId: id,
    createdBy: email,
  });

  return {
    actor: {
      kind: "user",
      userId: id,
      email,
      instanceRole: role,
      via: "token",
    },
    secret,
  };
}

export async function makeTask(
  db: Database,
  projectId: string,
  title: string,
  holder?: { agentId: string; claimedAt: Date; leaseExpiresAt: Date },
) {
  const [goal] = await db
    .insert(goals)
    .values({
      id: newId(),
      projectId,
      title: `${title} goal`,
      createdAt: now(),
      updatedAt: now(),
    })
    .returning();
  const [task] = await db
    .insert(tasks)
    .values({
      id: newId(),
      projectId,
      goalId: goal.id,
      title,
      status: holder ? "claimed" : "ready",
      holderAgentId: holder?.agentId ?? null,
      leaseId: holder ? newId() : null,
      leaseExpiresAt: holder?.leaseExpiresAt ?? null,
      createdAt: now(),
      updatedAt: now(),
    })
    .returning();
  if (holder && task.leaseId) {
    await db.insert(taskLeases).values({
      leaseId: task.leaseId,
      taskId: task.id,
      agentId: holder.agentId,
      claimedAt: holder.claimedAt,
      expiresAt: holder.leaseExpiresAt,
      ttlSeconds: 300,
    });
  }

  return { goal, task };
}

/** A clock that moves one second per reading, from `start`. */
export function steppingClock(start: string) {
  let t = Date.parse(start);

  return () => {
    const at = new Date(t);
    t += 1000;

    return at;
  };
}
