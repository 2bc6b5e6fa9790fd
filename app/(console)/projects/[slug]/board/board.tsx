"use client";

import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { usePathname, useSearchParams } from "next/navigation";
import { useTRPC } from "@/components/trpc";
import { TaskActions } from "../goals/task-actions";
import { clock, statusLabels, type TaskStatusName } from "../goals/ui";

const columns = Object.keys(statusLabels) as TaskStatusName[];

// The filters live in the URL query (?goal=&agent=&capability=) so a
// reload or a shared link shows the same board.
const filterKeys = ["goal", "agent", "capability"] as const;
type FilterKey = (typeof filterKeys)[number];

function useBoardFilters() {
  const pathname = usePathname();
  const params = useSearchParams();
  const filters = Object.fromEntries(
    filterKeys.map((key) => [key, params.get(key) ?? ""]),
  ) as Record<FilterKey, string>;
  const setFilter = (key: FilterKey, value: string) => {
    const next = new URLSearchParams(params.toString());
    if (value) next.set(key, value);
    else next.delete(key);
    const query = next.toString();
    // Next.js keeps useSearchParams in step with replaceState, without a
    // round trip to the server.
    window.history.replaceState(
      null,
      "",
      query ? `${pathname}?${query}` : pathname,
    );
  };

  return { filters, setFilter };
}

// The board polls every second so a claim or a completion shows within two
// seconds without a reload; filtering happens on the server.
export function Board(props: { project: string; canOperate: boolean }) {
  const trpc = useTRPC();
  const { filters, setFilter } = useBoardFilters();
  const goals = useQuery(
    trpc.orchestration.goals.list.queryOptions({ project: props.project }),
  );
  const agents = useQuery(
    trpc.identity.agents.list.queryOptions({ project: props.project }),
  );
  const tasks = useQuery(
    trpc.orchestration.tasks.list.queryOptions(
      {
        project: props.project,
        goalId: filters.goal || undefined,
        holderAgentId: filters.agent || undefined,
        capability: filters.capability || undefined,
      },
      { refetchInterval: 1_000 },
    ),
  );
  const goalTitles = new Map(goals.data?.map((g) => [g.id, g.title]));
  const capabilities = [
    ...new Set([
      ...(agents.data?.flatMap((a) => a.capabilities) ?? []),
      ...(tasks.data?.flatMap((t) => t.capabilities) ?? []),
      ...(filters.capability ? [filters.capability] : []),
    ]),
  ].sort();
  const filtered = filterKeys.some((key) => filters[key] !== "");
  // The moment of the last fetch: a lease older than it has run out.
  const fetchedAt = tasks.dataUpdatedAt;

  return (
    <>
      <div className="row" style={{ marginBottom: "1rem" }}>
        <label style={{ flexDirection: "row", alignItems: "center" }}>
          Goal
          <select
            value={filters.goal}
            onChange={(e) => setFilter("goal", e.target.value)}
          >
            <option value="">All goals</option>
            {goals.data?.map((goal) => (
              <option key={goal.id} value={goal.id}>
                {goal.title}
              </option>
            ))}
          </select>
        </label>
        <label style={{ flexDirection: "row", alignItems: "center" }}>
          Agent
          <select
            value={filters.agent}
            onChange={(e) => setFilter("agent", e.target.value)}
          >
            <option value="">Any holder</option>
            {agents.data?.map((agent) => (
              <option key={agent.id} value={agent.id}>
                {agent.name}
              </option>
            ))}
          </select>
        </label>
        <label style={{ flexDirection: "row", alignItems: "center" }}>
          Capability
          <select
            value={filters.capability}
            onChange={(e) => setFilter("capability", e.target.value)}
          >
            <option value="">Any capability</option>
            {capabilities.map((tag) => (
              <option key={tag} value={tag}>
                {tag}
              </option>
            ))}
          </select>
        </label>
        {filtered && (
          <button
            type="button"
            className="secondary"
            onClick={() => {
              window.history.replaceState(null, "", window.location.pathname);
            }}
          >
            Clear filters
          </button>
        )}
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
                      // One path a line, broken where needed to stay
                      // inside the card.
                      <div style={{ fontSize: "0.8rem", minWidth: 0 }}>
                        {task.scope.map((path) => (
                          <code
                            key={path}
                            title={path}
                            style={{
                              display: "block",
                              whiteSpace: "normal",
                              overflowWrap: "anywhere",
                            }}
                          >
                            {path}
                          </code>
                        ))}
                      </div>
                    )}
                    {task.capabilities.length > 0 && (
                      <div className="row" style={{ gap: "0.25rem" }}>
                        {task.capabilities.map((tag) => (
                          <span key={tag} className="badge muted">
                            {tag}
                          </span>
                        ))}
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
