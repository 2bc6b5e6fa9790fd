"use client";

import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc";
import { TaskActions } from "../../goals/task-actions";
import { clock, statusLabels, usd } from "../../goals/ui";
import { ClaimExplanation } from "./claim-explanation";
import { ReassignTask } from "./reassign-task";
import { TaskActivity } from "./task-activity";

// One task: what it is, who holds it until when, what it waits on, and every
// status change it went through (the append-only history).

const actorWords = { agent: "agent", operator: "operator", system: "system" };

export function TaskDetail(props: {
  project: string;
  taskId: string;
  canOperate: boolean;
}) {
  const trpc = useTRPC();
  const detail = useQuery(
    trpc.orchestration.tasks.detail.queryOptions(
      { taskId: props.taskId },
      { refetchInterval: 2_000 },
    ),
  );
  const goal = useQuery(
    trpc.orchestration.goals.get.queryOptions(
      { goalId: detail.data?.task.goalId ?? "" },
      { enabled: Boolean(detail.data) },
    ),
  );
  if (detail.error) return <p className="error">{detail.error.message}</p>;
  if (!detail.data) return <p className="muted">Loading task…</p>;
  const { task, dependsOn, transitions } = detail.data;
  const base = `/projects/${props.project}`;
  const expired =
    task.leaseExpiresAt !== null &&
    task.leaseExpiresAt.getTime() <= detail.dataUpdatedAt;

  return (
    <>
      <p>
        <Link href={`${base}/board`}>← Board</Link>
      </p>
      <div className="row">
        <h1 style={{ margin: 0 }}>{task.title}</h1>
        <span className={`badge ${badgeFor(task.status)}`}>
          {statusLabels[task.status]}
        </span>
      </div>
      {task.description && <p>{task.description}</p>}

      <section className="panel" aria-labelledby="task-facts">
        <h2 id="task-facts">Details</h2>
        <dl
          style={{
            display: "grid",
            gridTemplateColumns: "max-content 1fr",
            gap: "0.35rem 1rem",
            margin: "0 0 0.75rem",
            alignItems: "baseline",
          }}
        >
          <dt>Goal</dt>
          <dd>
            <Link href={`${base}/goals/${task.goalId}`}>
              {goal.data?.title ?? "goal"}
            </Link>
          </dd>
          <dt>Priority</dt>
          <dd>{task.priority}</dd>
          <dt>Scope</dt>
          <dd>
            {task.scope.length > 0 ? (
              <code>{task.scope.join(", ")}</code>
            ) : (
              <span className="muted">no file scope</span>
            )}
          </dd>
          <dt>Capabilities</dt>
          <dd>
            {task.capabilities.length > 0 ? (
              task.capabilities.map((tag) => (
                <span
                  key={tag}
                  className="badge muted"
                  style={{ marginRight: 4 }}
                >
                  {tag}
                </span>
              ))
            ) : (
              <span className="muted">any agent</span>
            )}
          </dd>
          {task.estimateUsd !== null && (
            <>
              <dt>Estimate</dt>
              <dd>{usd(task.estimateUsd)}</dd>
            </>
          )}
          <dt>Lease</dt>
          <dd>
            {task.holder ? (
              <>
                held by <strong>{task.holder.name}</strong> until{" "}
                {clock(task.leaseExpiresAt)}{" "}
                {expired && <span className="badge warn">lease expired</span>}
              </>
            ) : (
              <span className="muted">not held</span>
            )}
          </dd>
          <dt>Attempts</dt>
          <dd>{task.attempts}</dd>
          {task.result !== null && (
            <>
              <dt>{task.status === "failed" ? "Failure reason" : "Result"}</dt>
              <dd style={{ whiteSpace: "pre-wrap" }}>{task.result}</dd>
            </>
          )}
          <dt>Depends on</dt>
          <dd>
            {dependsOn.length === 0 ? (
              <span className="muted">nothing</span>
            ) : (
              <ul style={{ margin: 0, paddingLeft: "1.2rem" }}>
                {dependsOn.map((d) => (
                  <li key={d.id}>
                    <Link href={`${base}/tasks/${d.id}`}>{d.title}</Link>{" "}
                    <span className={`badge ${badgeFor(d.status)}`}>
                      {statusLabels[d.status]}
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </dd>
        </dl>
        {props.canOperate && <TaskActions task={task} />}
        {props.canOperate && (
          <ReassignTask
            project={props.project}
            task={{ ...task, holderId: task.holder?.id ?? null }}
          />
        )}
      </section>

      <ClaimExplanation taskId={task.id} />

      <TaskActivity project={props.project} taskId={task.id} />

      <section className="panel" aria-labelledby="task-history">
        <h2 id="task-history">History</h2>
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>From</th>
              <th>To</th>
              <th>Reason</th>
            </tr>
          </thead>
          <tbody>
            {transitions.map((t) => (
              <tr key={t.id}>
                <td>{moment(t.at)}</td>
                <td>
                  {t.actorLabel}{" "}
                  <span className="muted">({actorWords[t.actorType]})</span>
                </td>
                <td>{t.from ? statusLabels[t.from] : "—"}</td>
                <td>{statusLabels[t.to]}</td>
                <td style={{ whiteSpace: "pre-wrap" }}>{t.reason ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

function badgeFor(status: string): string {
  if (status === "done") return "ok";
  if (status === "failed" || status === "blocked") return "danger";
  if (status === "cancelled" || status === "draft") return "muted";

  return "warn";
}

/** Date and time to the second: transitions come seconds apart. */
function moment(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}
