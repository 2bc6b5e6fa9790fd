"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import { formatUsd } from "@/components/charts/format";
import { formatTime } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import type { ApprovalView } from "@/server/guardrails/approvals";

type Role = "viewer" | "operator" | "admin";

const kindLabels: Record<ApprovalView["kind"], string> = {
  plan: "Plan",
  tool: "Tool call",
  budget_increase: "Budget increase",
};

const statusTone: Record<ApprovalView["status"], string> = {
  pending: "warn",
  approved: "ok",
  denied: "danger",
  expired: "danger",
  cancelled: "muted",
};

/** "4 min 05 s left", or "expired": the countdown of a pending item. */
function countdown(expiresAt: Date, at: number): string {
  const seconds = Math.floor((expiresAt.getTime() - at) / 1000);
  if (seconds <= 0) return "expiring now";
  const minutes = Math.floor(seconds / 60);
  if (minutes >= 60)
    return `${Math.floor(minutes / 60)} h ${minutes % 60} min left`;
  const rest = String(seconds % 60).padStart(2, "0");

  return minutes > 0 ? `${minutes} min ${rest} s left` : `${seconds} s left`;
}

/** The current time, once a second: the countdowns follow it. */
function useNow(): number {
  const [at, setAt] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setAt(Date.now()), 1000);

    return () => clearInterval(timer);
  }, []);

  return at;
}

export function ApprovalsQueue(props: { project: string; role: Role }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const list = useQuery(
    trpc.approvals.list.queryOptions(
      { project: props.project },
      { refetchInterval: 2_000 },
    ),
  );
  // A decision changes the queue and the badge.
  const decide = useMutation(
    trpc.approvals.decide.mutationOptions({
      onSuccess: () =>
        Promise.all([
          queryClient.invalidateQueries({
            queryKey: trpc.approvals.list.queryKey(),
          }),
          queryClient.invalidateQueries({
            queryKey: trpc.approvals.count.queryKey({
              project: props.project,
            }),
          }),
        ]),
    }),
  );
  const at = useNow();
  const pending = (list.data ?? []).filter((a) => a.status === "pending");
  const decided = (list.data ?? []).filter((a) => a.status !== "pending");

  return (
    <>
      <section className="panel" aria-label="Pending approvals">
        <h2>Waiting for a decision</h2>
        {list.isPending && <p className="muted">Loading approvals…</p>}
        {list.error && <p className="error">{list.error.message}</p>}
        {decide.error && (
          <p className="error" role="alert">
            {decide.error.message}
          </p>
        )}
        {list.data && pending.length === 0 && (
          <p className="muted">Nothing waits for a decision.</p>
        )}
        {pending.map((approval) => (
          <PendingApproval
            key={approval.id}
            approval={approval}
            project={props.project}
            role={props.role}
            at={at}
            deciding={decide.isPending}
            onDecide={(decision, comment) =>
              decide.mutate({ approvalId: approval.id, decision, comment })
            }
          />
        ))}
      </section>
      <section className="panel" aria-label="Decided approvals">
        <h2>Decided</h2>
        {list.data && decided.length === 0 && (
          <p className="muted">Nothing decided yet.</p>
        )}
        {decided.length > 0 && (
          <table aria-label="Decided approvals">
            <thead>
              <tr>
                <th>Kind</th>
                <th>What</th>
                <th>Requested by</th>
                <th>Decision</th>
                <th>By</th>
                <th>When</th>
                <th>Comment</th>
              </tr>
            </thead>
            <tbody>
              {decided.map((a) => (
                <tr key={a.id} data-approval={a.id}>
                  <td>{kindLabels[a.kind]}</td>
                  <td>{a.title}</td>
                  <td>{a.agent?.name ?? "a person"}</td>
                  <td>
                    <span className={`badge ${statusTone[a.status]}`}>
                      {a.status}
                    </span>
                  </td>
                  <td>{a.decidedBy ?? "—"}</td>
                  <td>{formatTime(a.decidedAt)}</td>
                  <td style={{ whiteSpace: "pre-wrap" }}>{a.comment ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}

function PendingApproval(props: {
  approval: ApprovalView;
  project: string;
  role: Role;
  at: number;
  deciding: boolean;
  onDecide: (decision: "approve" | "deny", comment: string) => void;
}) {
  const [comment, setComment] = useState("");
  const a = props.approval;
  const base = `/projects/${props.project}`;

  return (
    <article
      className="panel"
      data-approval={a.id}
      aria-label={`${kindLabels[a.kind]}: ${a.title}`}
    >
      <div className="row">
        <span className="badge warn">{kindLabels[a.kind]}</span>
        {a.requiredRole === "admin" && (
          <span className="badge danger">needs an admin</span>
        )}
        <strong>{a.title}</strong>
      </div>
      <p className="muted">
        Requested by {a.agent ? `agent ${a.agent.name}` : "a person"} at{" "}
        {formatTime(a.requestedAt)}
        {a.expiresAt && (
          <>
            {" · "}
            <span title={formatTime(a.expiresAt)}>
              {countdown(a.expiresAt, props.at)}
            </span>
          </>
        )}
      </p>
      {a.reason && <p style={{ whiteSpace: "pre-wrap" }}>{a.reason}</p>}
      <ApprovalContext approval={a} base={base} />
      {a.canDecide ? (
        <div className="stack" style={{ maxWidth: 560 }}>
          <label>
            Comment
            <textarea
              rows={2}
              value={comment}
              onChange={(event) => setComment(event.target.value)}
              placeholder={
                a.kind === "plan" ? "Required to deny a plan" : "Optional"
              }
            />
          </label>
          <div className="row">
            <button
              type="button"
              disabled={props.deciding}
              onClick={() => props.onDecide("approve", comment)}
            >
              Approve
            </button>
            <button
              type="button"
              className="danger"
              disabled={props.deciding}
              onClick={() => props.onDecide("deny", comment)}
            >
              Deny
            </button>
          </div>
        </div>
      ) : (
        <p className="muted">
          {props.role === "viewer"
            ? "Read-only: operators decide."
            : "Only an admin can decide this one."}
        </p>
      )}
    </article>
  );
}

/** What is asked, by kind: the plan's tasks, the tool call and its
 * session, or the budget. */
function ApprovalContext(props: { approval: ApprovalView; base: string }) {
  const a = props.approval;
  const p = a.payload;
  if (a.kind === "plan" && a.plan) {
    return (
      <div>
        <table aria-label="Planned tasks">
          <thead>
            <tr>
              <th>Task</th>
              <th>Scope</th>
              <th>Estimate</th>
            </tr>
          </thead>
          <tbody>
            {a.plan.tasks.map((task) => (
              <tr key={task.key}>
                <td>
                  <code>{task.key}</code> {task.title}
                </td>
                <td>
                  <code>{task.scope.join(", ")}</code>
                </td>
                <td>{formatUsd(task.estimateUsd)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p>
          Total estimate {formatUsd(a.plan.estimateTotalUsd)}
          {a.goal && <> for goal {a.goal.title}</>} ·{" "}
          <Link href={`${props.base}/plans/${a.plan.id}`}>
            Open plan v{a.plan.version}
          </Link>
        </p>
      </div>
    );
  }
  if (a.kind === "tool") {
    return (
      <div>
        <dl className="details pairs">
          <dt>Tool</dt>
          <dd>
            <code>{String(p.toolName ?? "")}</code>
          </dd>
          {typeof p.command === "string" && (
            <>
              <dt>Command</dt>
              <dd>
                <pre style={{ whiteSpace: "pre-wrap", margin: 0 }}>
                  {p.command}
                </pre>
              </dd>
            </>
          )}
          {a.session && (
            <>
              <dt>Session</dt>
              <dd>
                <Link
                  href={`${props.base}/sessions/${encodeURIComponent(a.session.id)}`}
                >
                  {a.session.id}
                </Link>{" "}
                · cost so far{" "}
                {formatUsd(
                  a.session.costUsd ?? Number(p.costUsdAtRequest ?? 0),
                )}
              </dd>
            </>
          )}
          {a.task && (
            <>
              <dt>Task</dt>
              <dd>
                <Link href={`${props.base}/tasks/${a.task.id}`}>
                  {a.task.title}
                </Link>
              </dd>
            </>
          )}
          <dt>Rule</dt>
          <dd>
            <Link
              href={`${props.base}/guardrails`}
              title={String(p.rule ?? "")}
            >
              {p.scope ? `A ${String(p.scope)} rule` : "A rule"}
            </Link>{" "}
            on the guardrails page (its reason is above)
          </dd>
        </dl>
        <details>
          <summary>Tool input</summary>
          <pre style={{ whiteSpace: "pre-wrap" }}>
            {JSON.stringify(p.toolInput, null, 2)}
          </pre>
        </details>
      </div>
    );
  }

  return (
    <dl className="details pairs">
      <dt>Amount</dt>
      <dd>{formatUsd(Number(p.amountUsd ?? 0))}</dd>
      {a.goal && (
        <>
          <dt>Goal</dt>
          <dd>
            <Link href={`${props.base}/goals/${a.goal.id}`}>
              {a.goal.title}
            </Link>{" "}
            · budget now {formatUsd(a.goal.budgetUsd)}
          </dd>
        </>
      )}
    </dl>
  );
}
