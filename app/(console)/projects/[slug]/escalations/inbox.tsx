"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { formatTime } from "@/components/forms";
import { useTRPC } from "@/components/trpc";

type Role = "viewer" | "operator" | "admin";
type Filter = "open" | "resolved";
type Action = "reassign" | "merge_scopes" | "cancel" | "unblock" | "dismiss";

const kindLabels: Record<string, string> = {
  blocked: "Blocked",
  scope_conflict: "Scope conflict",
  max_attempts: "Attempts used up",
  lease_expired: "Lease keeps lapsing",
};

/** "3 h", "2 d": how long an escalation has waited. */
function age(since: Date): string {
  const minutes = Math.max(0, Math.round((Date.now() - since.getTime()) / 6e4));
  if (minutes < 60) return `${minutes} min`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h`;

  return `${Math.round(minutes / 1440)} d`;
}

export function EscalationsInbox(props: { project: string; role: Role }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [filter, setFilter] = useState<Filter>("open");
  const input = { project: props.project, status: filter };
  const list = useQuery(
    trpc.orchestration.escalations.list.queryOptions(input),
  );
  const agents = useQuery(
    trpc.identity.agents.list.queryOptions({ project: props.project }),
  );
  // A resolution changes the inbox, its badge and the task.
  const resolve = useMutation(
    trpc.orchestration.escalations.resolve.mutationOptions({
      onSuccess: () =>
        Promise.all([
          queryClient.invalidateQueries({
            queryKey: trpc.orchestration.escalations.list.queryKey(),
          }),
          queryClient.invalidateQueries({
            queryKey: trpc.orchestration.escalations.count.queryKey({
              project: props.project,
            }),
          }),
        ]),
    }),
  );
  const canResolve = props.role !== "viewer";
  const base = `/projects/${props.project}`;

  return (
    <section className="panel" aria-label="Escalations">
      <div className="row" role="group" aria-label="Show">
        {(["open", "resolved"] as const).map((value) => (
          <button
            key={value}
            type="button"
            aria-pressed={filter === value}
            className={filter === value ? undefined : "secondary"}
            onClick={() => setFilter(value)}
          >
            {value === "open" ? "Open" : "Resolved"}
          </button>
        ))}
      </div>
      {list.isPending && <p className="muted">Loading escalations…</p>}
      {list.error && <p className="error">{list.error.message}</p>}
      {list.data?.length === 0 && (
        <p className="muted">
          {filter === "open" ? "Nothing needs you." : "Nothing resolved yet."}
        </p>
      )}
      {resolve.error && (
        <p className="error" role="alert">
          {resolve.error.message}
        </p>
      )}
      {list.data && list.data.length > 0 && (
        <table aria-label={`${filter} escalations`}>
          <thead>
            <tr>
              <th>Kind</th>
              <th>Task</th>
              <th>Reason</th>
              <th>Raised by</th>
              <th>Age</th>
              <th>Sent to</th>
              <th>{filter === "open" ? "Resolve" : "Resolution"}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((e) => (
              <tr key={e.id} data-escalation={e.id}>
                <td>
                  <span className="badge warn">
                    {kindLabels[e.kind] ?? e.kind}
                  </span>
                </td>
                <td>
                  {e.task ? (
                    <Link href={`${base}/tasks/${e.task.id}`}>
                      {e.task.title}
                    </Link>
                  ) : (
                    <span className="muted">(task deleted)</span>
                  )}
                  {e.task && <div className="muted">{e.task.status}</div>}
                  {e.conflictTask && (
                    <div className="muted">
                      conflicts with{" "}
                      <Link href={`${base}/tasks/${e.conflictTask.id}`}>
                        {e.conflictTask.title}
                      </Link>
                    </div>
                  )}
                  {e.path && (
                    <div className="muted">
                      <code>{e.path}</code>
                    </div>
                  )}
                </td>
                <td style={{ whiteSpace: "pre-wrap" }}>{e.reason}</td>
                <td>{e.raisedBy.label}</td>
                <td title={formatTime(e.createdAt)}>{age(e.createdAt)}</td>
                <td>
                  {e.recipients.length === 0
                    ? "nobody"
                    : e.recipients.map((r) => r.email ?? r.userId).join(", ")}
                </td>
                <td>
                  {e.status === "resolved" ? (
                    <>
                      <strong>{e.resolution?.replace("_", " ")}</strong>
                      <div className="muted">
                        {e.resolvedBy} · {formatTime(e.resolvedAt)}
                      </div>
                      {e.resolutionNote && <div>{e.resolutionNote}</div>}
                    </>
                  ) : canResolve ? (
                    <ResolveForm
                      escalation={e}
                      agents={(agents.data ?? []).map((a) => a.name)}
                      pending={resolve.isPending}
                      onResolve={(action, note, agent) =>
                        resolve.mutate({
                          escalationId: e.id,
                          action,
                          note: note || undefined,
                          agent: agent || undefined,
                        })
                      }
                    />
                  ) : (
                    <span className="muted">open</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The actions that fit the escalation's task: unblock only a blocked
 * task, merge only when a conflicting task is named. */
function ResolveForm(props: {
  escalation: {
    id: string;
    task: { status: string } | null;
    conflictTask: { id: string } | null;
  };
  agents: string[];
  pending: boolean;
  onResolve: (action: Action, note: string, agent: string) => void;
}) {
  const [note, setNote] = useState("");
  const [agent, setAgent] = useState("");
  const { task, conflictTask } = props.escalation;
  const final = task
    ? ["done", "failed", "cancelled"].includes(task.status)
    : true;
  const button = (action: Action, label: string, danger = false) => (
    <button
      type="button"
      className={danger ? "danger" : undefined}
      disabled={props.pending}
      onClick={() =>
        props.onResolve(action, note, action === "reassign" ? agent : "")
      }
    >
      {label}
    </button>
  );

  return (
    <div className="stack">
      <input
        aria-label="Note"
        placeholder="note (optional)"
        value={note}
        onChange={(event) => setNote(event.target.value)}
      />
      {!final && (
        <div className="row">
          <select
            aria-label="Reassign to"
            value={agent}
            onChange={(event) => setAgent(event.target.value)}
          >
            <option value="">any agent (ready)</option>
            {props.agents.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
          {button("reassign", "Reassign")}
        </div>
      )}
      <div className="row">
        {task?.status === "blocked" && button("unblock", "Unblock")}
        {!final && conflictTask && button("merge_scopes", "Merge scopes")}
        {!final && button("cancel", "Cancel task", true)}
        {button("dismiss", "Dismiss")}
      </div>
    </div>
  );
}
