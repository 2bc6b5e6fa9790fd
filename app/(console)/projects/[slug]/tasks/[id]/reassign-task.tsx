"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { FormEvent } from "react";
import { useTRPC } from "@/components/trpc";

// Hand a ready or held task to a named agent: its current lease ends, the
// agent holds the task under a new one and hears of it in its next
// heartbeat or claim. The domain checks the agent is active, has the
// capabilities and holds nothing overlapping; its message says why not.

const reassignable = ["ready", "claimed", "in_progress"];

export function ReassignTask(props: {
  project: string;
  task: { id: string; title: string; status: string; holderId: string | null };
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const agents = useQuery(
    trpc.identity.agents.list.queryOptions({ project: props.project }),
  );
  const reassign = useMutation(
    trpc.orchestration.tasks.reassign.mutationOptions({
      onSuccess: () =>
        Promise.all([
          queryClient.invalidateQueries(trpc.orchestration.tasks.pathFilter()),
          queryClient.invalidateQueries(
            trpc.orchestration.directives.pathFilter(),
          ),
        ]),
    }),
  );
  if (!reassignable.includes(props.task.status)) return null;
  const choices = (agents.data ?? []).filter(
    (agent) => agent.status === "active" && agent.id !== props.task.holderId,
  );

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const reason = String(form.get("reason") ?? "").trim();
    reassign.mutate(
      {
        taskId: props.task.id,
        agent: String(form.get("agent") ?? ""),
        reason: reason === "" ? undefined : reason,
      },
      { onSuccess: () => formElement.reset() },
    );
  }

  return (
    <form className="row" onSubmit={submit} aria-label="Reassign task">
      <label>
        Reassign to
        <select name="agent" required defaultValue="">
          <option value="" disabled>
            choose an agent…
          </option>
          {choices.map((agent) => (
            <option key={agent.id} value={agent.name}>
              {agent.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Reason
        <input name="reason" maxLength={2000} placeholder="optional" />
      </label>
      <button
        type="submit"
        className="secondary"
        disabled={reassign.isPending}
        aria-label={`Reassign ${props.task.title}`}
      >
        Reassign
      </button>
      {reassign.error && (
        <span className="error" role="alert">
          {reassign.error.message}
        </span>
      )}
    </form>
  );
}
