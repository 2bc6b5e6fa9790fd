import { and, asc, desc, eq, inArray, max, or, sql } from "drizzle-orm";
import { z } from "zod";
import { type Database, inTransaction } from "@/db/client";
import { agents, apiTokens, tasks } from "@/db/schema";
import { DomainError, isUniqueViolation, notFound } from "@/server/errors";
import { newId, now } from "@/server/runtime";
import { actorLabel, type Actor } from "./actor";
import { requireProjectRole, type Project } from "./access";
import { recordAudit } from "./audit";
import { parseInput } from "@/server/input";
import { agentPresence, type Presence } from "./presence";
import {
  agentNameSchema,
  capabilityTagsSchema,
  expiresInDaysSchema,
  reasonSchema,
} from "./schemas";
import { publicToken } from "./token-view";
import { issueToken } from "./tokens";

// Agents are the project's non-human workers. Each speaks through bearer
// tokens; an operator can pause one, which refuses its claims and tool
// calls until it is resumed.

export type Agent = typeof agents.$inferSelect;

const uuidPattern =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An agent of the project, by name or id. */
export async function findAgent(
  db: Database,
  project: Project,
  nameOrId: string,
): Promise<Agent> {
  const match = uuidPattern.test(nameOrId)
    ? or(eq(agents.id, nameOrId), eq(agents.name, nameOrId))
    : eq(agents.name, nameOrId);
  const [agent] = await db
    .select()
    .from(agents)
    .where(and(eq(agents.projectId, project.id), match))
    .limit(1);
  if (!agent) throw notFound(`Agent ${nameOrId} in project ${project.slug}`);

  return agent;
}

export function expiryFromDays(days: number | undefined): Date | null {
  if (days === undefined) return null;

  return new Date(now().getTime() + days * 24 * 60 * 60 * 1000);
}

export const createAgentInput = z.object({
  project: z.string().min(1),
  name: agentNameSchema,
  expiresInDays: expiresInDaysSchema.optional(),
  capabilities: capabilityTagsSchema.optional(),
});

/** Creates an agent with its first token; the secret is returned here and
 * never again. */
export async function createAgent(
  db: Database,
  actor: Actor,
  input: z.input<typeof createAgentInput>,
) {
  const values = parseInput(createAgentInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "admin",
  );
  const nameTaken = new DomainError(
    "conflict",
    `Agent ${values.name} already exists in project ${project.slug}`,
    [{ path: "name", message: "An agent with this name already exists" }],
  );
  try {
    return await inTransaction(db, async (tx) => {
      const at = now();
      const [agent] = await tx
        .insert(agents)
        .values({
          id: newId(),
          projectId: project.id,
          name: values.name,
          status: "active",
          capabilities: values.capabilities ?? [],
          createdAt: at,
          updatedAt: at,
        })
        .onConflictDoNothing()
        .returning();
      if (!agent) throw nameTaken;
      const { token, secret } = await issueToken(tx, {
        kind: "agent",
        name: `${agent.name} (first token)`,
        projectId: project.id,
        agentId: agent.id,
        createdBy: actorLabel(actor),
        expiresAt: expiryFromDays(values.expiresInDays),
      });
      await recordAudit(tx, actor, {
        projectId: project.id,
        action: "agent.create",
        targetType: "agent",
        targetId: agent.id,
        details: {
          name: agent.name,
          tokenPrefix: token.prefix,
          capabilities: agent.capabilities,
        },
      });

      return { agent, token: publicToken(token), secret };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken;
    throw error;
  }
}

/** A task an agent holds, as the agents page shows it. */
export interface HeldTask {
  id: string;
  title: string;
  status: string;
  leaseExpiresAt: Date | null;
}

/** The project's agents with their status, presence, capabilities, the
 * task each holds and when a token last spoke. */
export async function listAgents(
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
  const at = now();
  // Raw SQL takes the time as text: the postgres driver will not bind a Date.
  const liveTokens = sql<number>`count(${apiTokens.id}) filter (where
    ${apiTokens.revokedAt} is null and (${apiTokens.expiresAt} is null
    or ${apiTokens.expiresAt} > ${at.toISOString()}::timestamptz))`;
  const rows = await db
    .select({
      id: agents.id,
      name: agents.name,
      status: agents.status,
      pausedReason: agents.pausedReason,
      capabilities: agents.capabilities,
      maxActiveTasks: agents.maxActiveTasks,
      lastSeenAt: agents.lastSeenAt,
      createdAt: agents.createdAt,
      updatedAt: agents.updatedAt,
      lastTokenUseAt: max(apiTokens.lastUsedAt),
      liveTokens,
    })
    .from(agents)
    .leftJoin(apiTokens, eq(apiTokens.agentId, agents.id))
    .where(eq(agents.projectId, project.id))
    .groupBy(agents.id)
    .orderBy(asc(agents.name));
  const held = await heldTasksByAgent(
    db,
    rows.map((row) => row.id),
  );

  return rows.map((row) => {
    const heldTasks = held.get(row.id) ?? [];

    return {
      ...row,
      lastTokenUseAt: row.lastTokenUseAt ? new Date(row.lastTokenUseAt) : null,
      liveTokens: Number(row.liveTokens),
      presence: agentPresence(
        { lastSeenAt: row.lastSeenAt, holdsTask: heldTasks.length > 0 },
        at,
      ) satisfies Presence,
      heldTasks,
    };
  });
}

/** Tasks currently leased to each of `agentIds`, latest lease first. */
async function heldTasksByAgent(
  db: Database,
  agentIds: string[],
): Promise<Map<string, HeldTask[]>> {
  const byAgent = new Map<string, HeldTask[]>();
  if (agentIds.length === 0) return byAgent;
  const rows = await db
    .select({
      agentId: tasks.holderAgentId,
      id: tasks.id,
      title: tasks.title,
      status: tasks.status,
      leaseExpiresAt: tasks.leaseExpiresAt,
    })
    .from(tasks)
    .where(
      and(
        inArray(tasks.holderAgentId, agentIds),
        inArray(tasks.status, ["claimed", "in_progress"]),
      ),
    )
    .orderBy(desc(tasks.leaseExpiresAt));
  for (const { agentId, ...task } of rows) {
    if (!agentId) continue;
    byAgent.set(agentId, [...(byAgent.get(agentId) ?? []), task]);
  }

  return byAgent;
}

export const agentCapabilitiesInput = z.object({
  project: z.string().min(1),
  agent: z.string().trim().min(1, "Agent is required"),
  capabilities: capabilityTagsSchema,
});

/** Replaces an agent's capability tags; claims match tasks against them. */
export async function setAgentCapabilities(
  db: Database,
  actor: Actor,
  input: z.input<typeof agentCapabilitiesInput>,
): Promise<Agent> {
  const values = parseInput(agentCapabilitiesInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "operator",
  );
  const agent = await findAgent(db, project, values.agent);

  return inTransaction(db, async (tx) => {
    const [updated] = await tx
      .update(agents)
      .set({ capabilities: values.capabilities, updatedAt: now() })
      .where(eq(agents.id, agent.id))
      .returning();
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "agent.capabilities",
      targetType: "agent",
      targetId: agent.id,
      details: {
        name: agent.name,
        before: agent.capabilities,
        after: values.capabilities,
      },
    });

    return updated;
  });
}

export const agentStatusInput = z.object({
  project: z.string().min(1),
  agent: z.string().trim().min(1, "Agent is required"),
  reason: reasonSchema.optional(),
});

async function setAgentStatus(
  db: Database,
  actor: Actor,
  input: z.input<typeof agentStatusInput>,
  status: "active" | "paused",
): Promise<Agent> {
  const values = parseInput(agentStatusInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "operator",
  );
  const agent = await findAgent(db, project, values.agent);

  return inTransaction(db, async (tx) => {
    const reason = values.reason || null;
    const [updated] = await tx
      .update(agents)
      .set({
        status,
        pausedReason: status === "paused" ? reason : null,
        updatedAt: now(),
      })
      .where(eq(agents.id, agent.id))
      .returning();
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: status === "paused" ? "agent.pause" : "agent.resume",
      targetType: "agent",
      targetId: agent.id,
      details: { name: agent.name, was: agent.status, reason },
    });

    return updated;
  });
}

/** Pauses an agent: its claims and tool calls are refused until resumed. */
export function pauseAgent(
  db: Database,
  actor: Actor,
  input: z.input<typeof agentStatusInput>,
) {
  return setAgentStatus(db, actor, input, "paused");
}

export function resumeAgent(
  db: Database,
  actor: Actor,
  input: z.input<typeof agentStatusInput>,
) {
  return setAgentStatus(db, actor, input, "active");
}
