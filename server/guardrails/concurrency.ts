import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { inTransaction, queryRows, type Database } from "@/db/client";
import { agents } from "@/db/schema";
import { requireProjectRole } from "@/server/identity/access";
import type { Actor } from "@/server/identity/actor";
import { findAgent } from "@/server/identity/agents";
import { recordAudit } from "@/server/identity/audit";
import { parseInput } from "@/server/input";
import { now } from "@/server/runtime";
import { leaseHeldStatuses } from "@/server/orchestration/states";

// Concurrency limits: how many tasks one agent may hold at once (its own
// limit, else the project's default per agent) and how many of one goal's
// tasks may be held at once. A task counts while it is held under a live
// lease. Claims take a lock per limited agent and goal before counting, so
// concurrent claims cannot pass a limit together.

export const maxActiveTasksSchema = z
  .number({ error: "Must be a whole number of tasks" })
  .int("Must be a whole number of tasks")
  .min(1, "Must be at least 1")
  .max(1000, "Must be at most 1000");

export interface AgentLimit {
  agentName: string;
  limit: number;
  /** Where the limit comes from: the agent's own, or the project's. */
  source: "agent" | "project";
}

export interface GoalLimit {
  goalId: string;
  title: string;
  limit: number;
}

/** The agent's limit on held tasks, or null when it has none. */
export async function agentActiveLimit(
  db: Database,
  agentId: string,
): Promise<AgentLimit | null> {
  const [row] = await queryRows<{
    name: string;
    own: number | null;
    project: number | null;
  }>(
    db,
    sql`select a.name, a.max_active_tasks as own,
        s.max_active_per_agent as project
      from agents a
      left join orchestration_settings s on s.project_id = a.project_id
      where a.id = ${agentId}`,
  );
  if (!row) return null;

  return toAgentLimit(row.name, row.own, row.project);
}

/** The agent's own limit, else the project's default, else none. */
export function toAgentLimit(
  agentName: string,
  own: number | null,
  projectDefault: number | null,
): AgentLimit | null {
  if (own !== null) return { agentName, limit: Number(own), source: "agent" };
  if (projectDefault !== null) {
    return { agentName, limit: Number(projectDefault), source: "project" };
  }

  return null;
}

const heldList = sql.join(
  leaseHeldStatuses.map((status) => sql`${status}`),
  sql`, `,
);

/** Tasks the agent holds under a live lease at `at`. */
export async function agentHeldCount(
  db: Database,
  agentId: string,
  at: Date,
): Promise<number> {
  const [row] = await queryRows<{ held: string | number }>(
    db,
    sql`select count(*) as held from tasks t
      where t.holder_agent_id = ${agentId} and t.status in (${heldList})
        and t.lease_expires_at > ${at.toISOString()}::timestamptz`,
  );

  return Number(row?.held ?? 0);
}

/** Goals with a limit, among `goalIds` (every goal of the project when
 * null), with how many of their tasks are held at `at`. */
export async function goalLimits(
  db: Database,
  projectId: string,
  goalIds: string[] | null,
  at: Date,
): Promise<(GoalLimit & { held: number })[]> {
  if (goalIds !== null && goalIds.length === 0) return [];
  const only =
    goalIds === null
      ? sql``
      : sql`and g.id in (${sql.join(
          goalIds.map((id) => sql`${id}::uuid`),
          sql`, `,
        )})`;
  const rows = await queryRows<{
    id: string;
    title: string;
    max_active_tasks: number;
    held: string | number;
  }>(
    db,
    sql`select g.id, g.title, g.max_active_tasks,
        (select count(*) from tasks t
          where t.goal_id = g.id and t.status in (${heldList})
            and t.lease_expires_at > ${at.toISOString()}::timestamptz) as held
      from goals g
      where g.project_id = ${projectId} and g.max_active_tasks is not null
        ${only}`,
  );

  return rows.map((row) => ({
    goalId: row.id,
    title: row.title,
    limit: Number(row.max_active_tasks),
    held: Number(row.held),
  }));
}

export function agentLimitMessage(limit: AgentLimit, held: number): string {
  const where =
    limit.source === "agent"
      ? "its own limit"
      : "the project's limit per agent";

  return (
    `Agent ${limit.agentName} holds ${held} active ` +
    `${held === 1 ? "task" : "tasks"}, ${where} of ${limit.limit}`
  );
}

export function goalLimitMessage(limit: GoalLimit, held: number): string {
  return (
    `Goal '${limit.title}' has ${held} active ` +
    `${held === 1 ? "task" : "tasks"}, its limit of ${limit.limit}`
  );
}

/** The locks a claim takes before counting against these limits. */
export function concurrencyLockNames(
  agentId: string,
  agentLimited: boolean,
  limitedGoalIds: string[],
): string[] {
  return [
    ...(agentLimited ? [`active\0agent\0${agentId}`] : []),
    ...limitedGoalIds.map((id) => `active\0goal\0${id}`),
  ];
}

export const agentMaxActiveInput = z
  .object({
    project: z.string().min(1),
    agent: z.string().trim().min(1, "Agent is required"),
    /** null: the project's default applies. */
    maxActiveTasks: maxActiveTasksSchema.nullable(),
  })
  .strict();

/** Sets (or clears, with null) an agent's own limit on held tasks;
 * operators and admins, audited. Tasks it holds already are kept. */
export async function setAgentMaxActiveTasks(
  db: Database,
  actor: Actor,
  input: z.input<typeof agentMaxActiveInput>,
) {
  const values = parseInput(agentMaxActiveInput, input);
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
      .set({ maxActiveTasks: values.maxActiveTasks, updatedAt: now() })
      .where(and(eq(agents.id, agent.id), eq(agents.projectId, project.id)))
      .returning({
        id: agents.id,
        name: agents.name,
        maxActiveTasks: agents.maxActiveTasks,
      });
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "agent.max_active_tasks",
      targetType: "agent",
      targetId: agent.id,
      details: {
        name: agent.name,
        before: agent.maxActiveTasks,
        after: values.maxActiveTasks,
      },
    });

    return updated;
  });
}
