"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState, type FormEvent } from "react";
import { fieldErrors, formError, formatTime } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import { SecretNotice } from "@/components/auth-secret-notice";
import { clock } from "../goals/ui";
import {
  CapabilitiesCell,
  capabilityError,
  parseTags,
} from "./capabilities-cell";
import { MaxActiveCell } from "./max-active-cell";

type Role = "viewer" | "operator" | "admin";

// Presence is read from the agent's last authenticated call (see
// server/identity/presence.ts); pausing is shown beside it.
const presenceStyles = {
  online: { badge: "ok", dot: "var(--ok)", title: "working on a task" },
  idle: { badge: "", dot: "var(--accent)", title: "connected, no task" },
  offline: {
    badge: "muted",
    dot: "var(--muted)",
    title: "not seen for 2 minutes",
  },
} as const;

function PresenceBadge(props: { presence: keyof typeof presenceStyles }) {
  const style = presenceStyles[props.presence];

  return (
    <span
      className={`badge ${style.badge}`}
      title={style.title}
      data-presence={props.presence}
    >
      <span
        aria-hidden
        style={{
          display: "inline-block",
          width: 7,
          height: 7,
          borderRadius: "50%",
          background: style.dot,
          marginRight: 5,
          verticalAlign: "middle",
        }}
      />
      {props.presence}
    </span>
  );
}

export function AgentsPanel(props: { project: string; role: Role }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const input = { project: props.project };
  // Polled so presence and held tasks stay current without a reload.
  const agents = useQuery(
    trpc.identity.agents.list.queryOptions(input, { refetchInterval: 5_000 }),
  );
  const limits = useQuery(trpc.guardrails.limits.get.queryOptions(input));
  const [secret, setSecret] = useState<{ name: string; value: string } | null>(
    null,
  );
  // Changing an agent changes the agents list and the tokens list.
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({
        queryKey: trpc.identity.agents.list.queryKey(input),
      }),
      queryClient.invalidateQueries({
        queryKey: trpc.identity.tokens.list.queryKey(input),
      }),
    ]);
  const create = useMutation(
    trpc.identity.agents.create.mutationOptions({
      onSuccess: async (made) => {
        setSecret({ name: made.agent.name, value: made.secret });
        await refresh();
      },
    }),
  );
  const pause = useMutation(
    trpc.identity.agents.pause.mutationOptions({ onSuccess: refresh }),
  );
  const resume = useMutation(
    trpc.identity.agents.resume.mutationOptions({ onSuccess: refresh }),
  );
  const errors = fieldErrors(create.error);
  const canOperate = props.role !== "viewer";

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const tags = String(form.get("capabilities") ?? "");
    create.mutate(
      {
        project: props.project,
        name: String(form.get("name")),
        capabilities: tags.trim() === "" ? undefined : parseTags(tags),
      },
      { onSuccess: () => formElement.reset() },
    );
  }

  return (
    <section className="panel" aria-labelledby="agents-heading">
      <h2 id="agents-heading">Agents</h2>
      {secret && (
        <SecretNotice
          title={`Token for agent ${secret.name}`}
          secret={secret.value}
          onDismiss={() => setSecret(null)}
        />
      )}
      {agents.isPending && <p className="muted">Loading agents…</p>}
      {agents.error && <p className="error">{agents.error.message}</p>}
      {agents.data?.length === 0 && <p className="muted">No agents yet.</p>}
      {agents.data && agents.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Agent</th>
              <th>Presence</th>
              <th>Paused</th>
              <th>Current task</th>
              <th>Lease until</th>
              <th>Capabilities</th>
              <th>Max active tasks</th>
              <th>Live tokens</th>
              <th>Last token use</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {agents.data.map((agent) => (
              <tr key={agent.id} data-agent={agent.name}>
                <td>{agent.name}</td>
                <td>
                  <PresenceBadge presence={agent.presence} />
                  <div className="muted" style={{ fontSize: "0.8rem" }}>
                    seen {formatTime(agent.lastSeenAt)}
                  </div>
                </td>
                <td>
                  {agent.status === "paused" ? (
                    <span className="badge warn">paused</span>
                  ) : (
                    <span className="muted">no</span>
                  )}
                  {agent.pausedReason && (
                    <div className="muted">{agent.pausedReason}</div>
                  )}
                </td>
                <td>
                  {agent.heldTasks.length === 0 ? (
                    <span className="muted">none</span>
                  ) : (
                    agent.heldTasks.map((task) => (
                      <div key={task.id}>
                        <Link
                          href={`/projects/${props.project}/tasks/${task.id}`}
                        >
                          {task.title}
                        </Link>
                      </div>
                    ))
                  )}
                </td>
                <td>
                  {agent.heldTasks.map((task) => (
                    <div key={task.id}>
                      {task.leaseExpiresAt ? clock(task.leaseExpiresAt) : "—"}
                    </div>
                  ))}
                </td>
                <td>
                  <CapabilitiesCell
                    project={props.project}
                    agent={agent}
                    canEdit={canOperate}
                    onSaved={refresh}
                  />
                </td>
                <td>
                  <MaxActiveCell
                    project={props.project}
                    agent={agent}
                    projectDefault={limits.data?.maxActivePerAgent ?? null}
                    canEdit={canOperate}
                    onSaved={refresh}
                  />
                </td>
                <td>{agent.liveTokens}</td>
                <td>{formatTime(agent.lastTokenUseAt)}</td>
                <td>
                  {canOperate && agent.status === "paused" && (
                    <button
                      type="button"
                      aria-label={`Resume ${agent.name}`}
                      disabled={resume.isPending}
                      onClick={() =>
                        resume.mutate({ ...input, agent: agent.id })
                      }
                    >
                      Resume
                    </button>
                  )}
                  {canOperate && agent.status !== "paused" && (
                    <form
                      className="row"
                      onSubmit={(event) => {
                        event.preventDefault();
                        const form = new FormData(event.currentTarget);
                        pause.mutate({
                          ...input,
                          agent: agent.id,
                          reason: String(form.get("reason") ?? ""),
                        });
                      }}
                    >
                      <input
                        name="reason"
                        aria-label={`Reason to pause ${agent.name}`}
                        placeholder="reason (optional)"
                      />
                      <button
                        type="submit"
                        className="danger"
                        aria-label={`Pause ${agent.name}`}
                        disabled={pause.isPending}
                      >
                        Pause
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(pause.error ?? resume.error) && (
        <p className="error" role="alert">
          {(pause.error ?? resume.error)?.message}
        </p>
      )}
      {props.role === "admin" && (
        <form className="stack" onSubmit={submit} style={{ marginTop: "1rem" }}>
          <label>
            Agent name
            <input name="name" required placeholder="builder-1" />
            {errors.name && <span className="field-error">{errors.name}</span>}
          </label>
          <label>
            Capabilities (comma-separated, optional)
            <input name="capabilities" placeholder="typescript, migrations" />
            {capabilityError(errors) && (
              <span className="field-error">{capabilityError(errors)}</span>
            )}
          </label>
          {formError(create.error) && (
            <p className="error" role="alert">
              {formError(create.error)}
            </p>
          )}
          <button type="submit" disabled={create.isPending}>
            Create agent
          </button>
        </form>
      )}
    </section>
  );
}
