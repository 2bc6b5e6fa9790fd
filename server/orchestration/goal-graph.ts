import { eq, inArray } from "drizzle-orm";
import type { Database } from "@/db/client";
import { taskDependencies, tasks } from "@/db/schema";
import { notFound } from "@/server/errors";
import type { Actor } from "@/server/identity/actor";
import { parseInput } from "@/server/input";
import { goalIdInput, type TaskStatus } from "./schemas";
import { findGoalRow, requireRoleIn } from "./views";

// A goal's tasks as a layered dependency graph: a task sits one layer to
// the right of the furthest of the tasks it depends on, so every arrow
// points rightwards and the first layer holds the tasks nothing blocks.

export interface GraphNode {
  id: string;
  title: string;
  status: TaskStatus;
  /** 0 for a task that depends on nothing. */
  layer: number;
  /** Position inside the layer, from the top. */
  row: number;
}

export interface GraphEdge {
  /** The task depended on. */
  from: string;
  /** The task that waits for it. */
  to: string;
}

export interface GoalGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  layerCount: number;
}

/**
 * Places each node in the layer given by its longest chain of
 * dependencies, then orders each layer by the mean row of what its nodes
 * depend on so arrows cross less. Edges to unknown nodes are ignored; a
 * cycle (which task dependencies never hold) is cut where it is found.
 */
export function layOutGraph<N extends { id: string }>(
  nodes: N[],
  edges: GraphEdge[],
): (N & { layer: number; row: number })[] {
  const known = new Set(nodes.map((node) => node.id));
  const dependsOn = new Map<string, string[]>();
  for (const edge of edges) {
    if (!known.has(edge.from) || !known.has(edge.to)) continue;
    dependsOn.set(edge.to, [...(dependsOn.get(edge.to) ?? []), edge.from]);
  }

  const layers = new Map<string, number>();
  const visiting = new Set<string>();
  const layerOf = (id: string): number => {
    const done = layers.get(id);
    if (done !== undefined) return done;
    if (visiting.has(id)) return -1;
    visiting.add(id);
    const deps = dependsOn.get(id) ?? [];
    const layer = Math.max(-1, ...deps.map(layerOf)) + 1;
    visiting.delete(id);
    layers.set(id, layer);

    return layer;
  };
  for (const node of nodes) layerOf(node.id);

  const rows = new Map<string, number>();
  const layerCount = Math.max(0, ...layers.values()) + 1;
  const placed: (N & { layer: number; row: number })[] = [];
  for (let layer = 0; layer < layerCount; layer++) {
    const inLayer = nodes.filter((node) => layers.get(node.id) === layer);
    const weight = (node: N) => {
      const parents = (dependsOn.get(node.id) ?? [])
        .map((id) => rows.get(id))
        .filter((row): row is number => row !== undefined);

      return parents.length === 0
        ? Number.POSITIVE_INFINITY
        : parents.reduce((sum, row) => sum + row, 0) / parents.length;
    };
    // A stable sort keeps the caller's order among equal weights.
    const ordered = inLayer
      .map((node, index) => ({ node, index, weight: weight(node) }))
      .sort((a, b) => a.weight - b.weight || a.index - b.index);
    ordered.forEach(({ node }, row) => {
      rows.set(node.id, row);
      placed.push({ ...node, layer, row });
    });
  }

  return placed;
}

/** The dependency graph of a goal's tasks, for the goal page. */
export async function goalGraph(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<GoalGraph> {
  const { goalId } = parseInput(goalIdInput, input);
  const goal = await findGoalRow(db, goalId);
  await requireRoleIn(db, actor, goal.projectId, "viewer", () =>
    notFound("Goal", goalId),
  );
  const rows = await db
    .select({ id: tasks.id, title: tasks.title, status: tasks.status })
    .from(tasks)
    .where(eq(tasks.goalId, goal.id))
    .orderBy(tasks.createdAt, tasks.id);
  const ids = rows.map((row) => row.id);
  const links =
    ids.length === 0
      ? []
      : await db
          .select({
            from: taskDependencies.dependsOnId,
            to: taskDependencies.taskId,
          })
          .from(taskDependencies)
          .where(inArray(taskDependencies.taskId, ids));
  const nodes = layOutGraph(
    rows.map((row) => ({ ...row, status: row.status as TaskStatus })),
    links,
  );

  return {
    nodes,
    edges: links,
    layerCount:
      nodes.length === 0 ? 0 : Math.max(...nodes.map((n) => n.layer)) + 1,
  };
}
