"use client";

import { useQuery } from "@tanstack/react-query";
import { DependencyGraph } from "@/components/dependency-graph";
import { useTRPC } from "@/components/trpc";
import { statusLabels, type TaskStatusName } from "../ui";

// The goal's tasks as a dependency graph: tasks nothing blocks on the left,
// each arrow from a task to one that waits for it.

export function GoalGraph(props: { project: string; goalId: string }) {
  const trpc = useTRPC();
  const graph = useQuery(
    trpc.orchestration.goals.graph.queryOptions(
      { goalId: props.goalId },
      { refetchInterval: 2_000 },
    ),
  );

  return (
    <section className="panel" aria-labelledby="graph-heading">
      <h2 id="graph-heading">Dependency graph</h2>
      {graph.error && <p className="error">{graph.error.message}</p>}
      {graph.isPending && <p className="muted">Loading graph…</p>}
      {graph.data?.nodes.length === 0 && <p className="muted">No tasks yet.</p>}
      {graph.data && graph.data.nodes.length > 0 && (
        <div style={{ overflowX: "auto" }}>
          <DependencyGraph
            nodes={graph.data.nodes}
            edges={graph.data.edges}
            statusLabel={(status) =>
              statusLabels[status as TaskStatusName] ?? status
            }
            href={(taskId) => `/projects/${props.project}/tasks/${taskId}`}
          />
        </div>
      )}
    </section>
  );
}
