"use client";

import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { TaskActions } from "../goals/task-actions";
import { clock, statusLabels, type TaskStatusName } from "../goals/ui";

const columns = Object.keys(statusLabels) as TaskStatusName[];

// The board polls every second so a claim or a completion shows within two
// seconds without a reload.
export function Board(props: { project: string; canOperate: boolean }) {
  const trpc = useTRPC();
  const [goalId, setGoalId] = useState("");
  const goals = useQuery(
    trpc.orchestration.goals.list.queryOptions({ project: props.project }),
  );
  const tasks = useQuery(
    trpc.orchestration.tasks.list.queryOptions(
      { project: props.project, goalId: goalId || undefined },
      { refetchInterval: 1_000 },
    ),
  );
  const goalTitles = new Map(goals.data?.map((g) => [g.id, g.title]));
  // The moment of the last fetch: a lease older than it has run out.
  const fetchedAt = tasks.dataUpdatedAt;

  return (
    <>
      <div className="row" style={{ marginBottom: "1rem" }}>
        <label style={{ flexDirection: "row", alignItems: "center" }}>
          Goal
          <select value={goalId} onChange={(e) => setGoalId(e.target.value)}>
            <option value="">All goals</option>
            {goals.data?.map((goal) => (
              <option key={goal.id} value={goal.id}>
                {goal.title}
              </option>
            ))}
          </select>
        </label>
        {tasks.error && <span className="error">{tasks.error.message}</span>}
        {tasks.isPending && <span className="muted">Loading tasks…</span>}
      </div>
      <div
        style={{
          display: "grid",
          gridTemplateColumns: `repeat(${columns.length}, minmax(180px, 1fr))`,
          gap: "0.75rem",
          overflowX: "auto",
        }}
      >
        {columns.map((status) => {
          const inColumn = tasks.data?.filter((t) => t.status === status) ?? [];

          return (
            <section
              key={status}
              aria-labelledby={`column-${status}`}
              data-status={status}
              style={{
                background: "#eef0f3",
                borderRadius: 8,
                padding: "0.5rem",
                minHeight: 120,
              }}
            >
              <h2
                id={`column-${status}`}
                style={{ fontSize: "0.95rem", margin: "0.25rem 0 0.5rem" }}
              >
                {statusLabels[status]}{" "}
                <span className="muted">({inColumn.length})</span>
              </h2>
              {inColumn.map((task) => {
                const expired =
                  task.leaseExpiresAt !== null &&
                  task.leaseExpiresAt.getTime() <= fetchedAt;

                return (
                  <article
                    key={task.id}
                    aria-label={task.title}
                    className="panel"
                    style={{ padding: "0.6rem", marginBottom: "0.5rem" }}
                  >
                    <h3 style={{ fontSize: "0.9rem", margin: "0 0 0.3rem" }}>
                      <Link
                        href={`/projects/${props.project}/tasks/${task.id}`}
                      >
                        {task.title}
                      </Link>
                    </h3>
                    <div className="muted" style={{ fontSize: "0.8rem" }}>
                      <Link
                        href={`/projects/${props.project}/goals/${task.goalId}`}
                      >
                        {goalTitles.get(task.goalId) ?? "goal"}
                      </Link>{" "}
                      · priority {task.priority}
                    </div>
                    {task.scope.length > 0 && (
                      <div style={{ fontSize: "0.8rem" }}>
                        <code>{task.scope.join(", ")}</code>
                      </div>
                    )}
                    {task.holder && (
                      <div style={{ fontSize: "0.8rem" }}>
                        held by <strong>{task.holder.name}</strong>
                      </div>
                    )}
                    {task.leaseExpiresAt && (
                      <div style={{ fontSize: "0.8rem" }}>
                        lease until {clock(task.leaseExpiresAt)}{" "}
                        {expired && (
                          <span className="badge warn">lease expired</span>
                        )}
                      </div>
                    )}
                    {props.canOperate && (
                      <div style={{ marginTop: "0.4rem", fontSize: "0.8rem" }}>
                        <TaskActions task={task} />
                      </div>
                    )}
                  </article>
                );
              })}
            </section>
          );
        })}
      </div>
    </>
  );
}
