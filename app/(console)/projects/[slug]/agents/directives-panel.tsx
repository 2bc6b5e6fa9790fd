"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { FormEvent } from "react";
import { fieldErrors, formError, formatTime } from "@/components/forms";
import { useTRPC } from "@/components/trpc";

type Role = "viewer" | "operator" | "admin";

const stateBadge: Record<string, string> = {
  pending: "badge",
  delivered: "badge warn",
  acknowledged: "badge ok",
  expired: "badge muted",
  cancelled: "badge muted",
};

// Directives: send an instruction to one agent and follow it from pending
// to delivered (handed to the agent) to acknowledged.
export function DirectivesPanel(props: { project: string; role: Role }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const input = { project: props.project };
  const directives = useQuery({
    ...trpc.orchestration.directives.list.queryOptions(input),
    refetchInterval: 15_000,
  });
  const agents = useQuery(trpc.identity.agents.list.queryOptions(input));
  const refresh = () =>
    queryClient.invalidateQueries({
      queryKey: trpc.orchestration.directives.list.queryKey(input),
    });
  const send = useMutation(
    trpc.orchestration.directives.send.mutationOptions({ onSuccess: refresh }),
  );
  const cancel = useMutation(
    trpc.orchestration.directives.cancel.mutationOptions({
      onSuccess: refresh,
    }),
  );
  const errors = fieldErrors(send.error);
  const canSend = props.role !== "viewer";

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const minutes = Number(form.get("expiresInMinutes") || 0);
    send.mutate(
      {
        project: props.project,
        agent: String(form.get("agent") ?? ""),
        body: String(form.get("body") ?? ""),
        priority: String(form.get("priority")) as
          "low" | "normal" | "high" | "urgent",
        expiresAt:
          minutes > 0 ? new Date(Date.now() + minutes * 60_000) : undefined,
      },
      { onSuccess: () => formElement.reset() },
    );
  }

  return (
    <section className="panel" aria-labelledby="directives-heading">
      <h2 id="directives-heading">Directives</h2>
      <p className="muted">
        An agent receives a directive in its next heartbeat or claim and
        acknowledges it.
      </p>
      {canSend && (
        <form className="stack" onSubmit={submit}>
          <div className="row">
            <label>
              Agent
              <select name="agent" required defaultValue="">
                <option value="" disabled>
                  choose…
                </option>
                {(agents.data ?? []).map((agent) => (
                  <option key={agent.id} value={agent.name}>
                    {agent.name}
                  </option>
                ))}
              </select>
              {errors.agent && (
                <span className="field-error">{errors.agent}</span>
              )}
            </label>
            <label>
              Priority
              <select name="priority" defaultValue="normal">
                <option value="low">low</option>
                <option value="normal">normal</option>
                <option value="high">high</option>
                <option value="urgent">urgent</option>
              </select>
            </label>
            <label>
              Expires in (minutes)
              <input
                name="expiresInMinutes"
                type="number"
                min={1}
                placeholder="never"
              />
              {errors.expiresAt && (
                <span className="field-error">{errors.expiresAt}</span>
              )}
            </label>
          </div>
          <label>
            Directive
            <textarea
              name="body"
              required
              rows={3}
              placeholder="Stop touching db/migrations; open a plan first."
            />
            {errors.body && <span className="field-error">{errors.body}</span>}
          </label>
          {formError(send.error) && (
            <p className="error" role="alert">
              {formError(send.error)}
            </p>
          )}
          <button type="submit" disabled={send.isPending}>
            Send directive
          </button>
        </form>
      )}
      {directives.error && <p className="error">{directives.error.message}</p>}
      {cancel.error && (
        <p className="error" role="alert">
          {cancel.error.message}
        </p>
      )}
      {directives.data?.length === 0 && (
        <p className="muted">No directives sent yet.</p>
      )}
      {directives.data && directives.data.length > 0 && (
        <table aria-label="Directives" style={{ marginTop: "1rem" }}>
          <thead>
            <tr>
              <th>Agent</th>
              <th>Directive</th>
              <th>Priority</th>
              <th>State</th>
              <th>Sent</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {directives.data.map((d) => (
              <tr key={d.id} data-directive={d.id}>
                <td>{d.agent.name}</td>
                <td style={{ whiteSpace: "pre-wrap" }}>
                  {d.body}
                  {d.acknowledgement && (
                    <div className="muted">Reply: {d.acknowledgement}</div>
                  )}
                </td>
                <td>{d.priority}</td>
                <td>
                  <span className={stateBadge[d.state] ?? "badge"}>
                    {d.state}
                  </span>
                  {d.state === "delivered" && (
                    <div className="muted">{formatTime(d.deliveredAt)}</div>
                  )}
                  {d.state === "acknowledged" && (
                    <div className="muted">{formatTime(d.acknowledgedAt)}</div>
                  )}
                  {d.expiresAt && d.state !== "acknowledged" && (
                    <div className="muted">
                      expires {formatTime(d.expiresAt)}
                    </div>
                  )}
                </td>
                <td>
                  {formatTime(d.createdAt)}
                  <div className="muted">{d.createdBy}</div>
                </td>
                <td>
                  {canSend &&
                    (d.state === "pending" || d.state === "delivered") && (
                      <button
                        type="button"
                        className="danger"
                        aria-label={`Cancel directive to ${d.agent.name}`}
                        disabled={cancel.isPending}
                        onClick={() => cancel.mutate({ directiveId: d.id })}
                      >
                        Cancel
                      </button>
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
