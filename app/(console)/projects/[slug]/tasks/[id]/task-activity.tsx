"use client";

import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { formatCount, formatUsd, formatUtc } from "@/components/charts/format";
import { useTRPC } from "@/components/trpc";

// What the task has cost so far and the sessions whose events were
// attributed to it (the event named the task, or its agent held it then).

export function TaskActivity(props: { project: string; taskId: string }) {
  const trpc = useTRPC();
  const activity = useQuery(
    trpc.orchestration.tasks.activity.queryOptions(
      { taskId: props.taskId },
      { refetchInterval: 5_000 },
    ),
  );
  const data = activity.data;

  return (
    <section className="panel" aria-labelledby="task-activity">
      <h2 id="task-activity">Cost and sessions</h2>
      {activity.error && <p className="error">{activity.error.message}</p>}
      {activity.isPending && <p className="muted">Loading…</p>}
      {data && (
        <>
          <p>
            Cost so far{" "}
            <strong data-testid="task-cost">{formatUsd(data.costUsd)}</strong>{" "}
            <span className="muted">
              over {formatCount(data.eventCount)} event
              {data.eventCount === 1 ? "" : "s"}
              {data.unpricedCount > 0 &&
                `, ${formatCount(data.unpricedCount)} unpriced`}
            </span>
          </p>
          {data.sessions.length === 0 ? (
            <p className="muted">No session has reported work on this task.</p>
          ) : (
            <table aria-label="Sessions for this task">
              <thead>
                <tr>
                  <th>Session</th>
                  <th>Agent</th>
                  <th>Events on this task</th>
                  <th>Cost on this task</th>
                  <th>Last event</th>
                </tr>
              </thead>
              <tbody>
                {data.sessions.map((s) => (
                  <tr key={s.id}>
                    <td>
                      <Link
                        href={`/projects/${props.project}/sessions/${s.id}`}
                      >
                        {s.title ?? s.externalId}
                      </Link>
                    </td>
                    <td>{s.agentName}</td>
                    <td>{formatCount(s.eventCount)}</td>
                    <td>{formatUsd(s.costUsd)}</td>
                    <td>{formatUtc(s.lastEventAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
