import { count, eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { agentSessions, agents, goals, tasks } from "@/db/schema";
import type { Actor } from "./actor";
import { requireProjectRole } from "./access";

// The numbers on a project's overview page. Read-only counts across the
// layers; each layer's own pages hold the detail.

function tally(rows: { key: string; n: number | string }[]) {
  return Object.fromEntries(rows.map((row) => [row.key, Number(row.n)]));
}

export async function projectOverview(
  db: Database,
  actor: Actor,
  input: { project: string },
) {
  const { project, role } = await requireProjectRole(
    db,
    actor,
    input.project,
    "viewer",
  );
  const [goalRows, taskRows, agentRows, sessionRows] = await Promise.all([
    db
      .select({ key: goals.status, n: count() })
      .from(goals)
      .where(eq(goals.projectId, project.id))
      .groupBy(goals.status),
    db
      .select({ key: tasks.status, n: count() })
      .from(tasks)
      .where(eq(tasks.projectId, project.id))
      .groupBy(tasks.status),
    db
      .select({ key: agents.status, n: count() })
      .from(agents)
      .where(eq(agents.projectId, project.id))
      .groupBy(agents.status),
    db
      .select({ n: count() })
      .from(agentSessions)
      .where(eq(agentSessions.projectId, project.id)),
  ]);
  const goalsByStatus = tally(goalRows);
  const agentsByStatus = tally(agentRows);
  const sum = (m: Record<string, number>) =>
    Object.values(m).reduce((a, b) => a + b, 0);

  return {
    project,
    role,
    goals: { total: sum(goalsByStatus), byStatus: goalsByStatus },
    tasks: tally(taskRows),
    agents: { total: sum(agentsByStatus), byStatus: agentsByStatus },
    sessions: Number(sessionRows[0]?.n ?? 0),
  };
}
