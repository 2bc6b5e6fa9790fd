"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { FormEvent } from "react";
import { fieldErrors, formError, formatTime } from "@/components/forms";
import { useTRPC } from "@/components/trpc";

type Role = "viewer" | "operator" | "admin";

// The project kill switch: one button stops every claim and tool call in
// the project, with the reason agents are told.
export function KillSwitchPanel(props: { project: string; role: Role }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const input = { project: props.project };
  const state = useQuery(trpc.guardrails.pause.state.queryOptions(input));
  const refresh = () =>
    queryClient.invalidateQueries({
      queryKey: trpc.guardrails.pause.state.queryKey(input),
    });
  const pause = useMutation(
    trpc.guardrails.pause.pause.mutationOptions({ onSuccess: refresh }),
  );
  const resume = useMutation(
    trpc.guardrails.pause.resume.mutationOptions({ onSuccess: refresh }),
  );
  const errors = fieldErrors(pause.error);
  const canOperate = props.role !== "viewer";

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    pause.mutate({ ...input, reason: String(form.get("reason") ?? "") });
  }

  return (
    <section className="panel" aria-labelledby="kill-switch-heading">
      <h2 id="kill-switch-heading">Kill switch</h2>
      {state.isPending && <p className="muted">Loading…</p>}
      {state.error && <p className="error">{state.error.message}</p>}
      {state.data?.paused && (
        <>
          <p>
            <span className="badge danger">paused</span> Every claim and tool
            call in this project is refused: {state.data.reason}
          </p>
          <p className="muted">
            Paused by {state.data.pausedBy} at {formatTime(state.data.pausedAt)}
          </p>
          {canOperate && (
            <button
              type="button"
              disabled={resume.isPending}
              onClick={() => resume.mutate(input)}
            >
              Resume project
            </button>
          )}
        </>
      )}
      {state.data && !state.data.paused && (
        <>
          <p>
            <span className="badge ok">running</span> Agents may claim tasks and
            use tools, within the rules below.
          </p>
          {canOperate && (
            <form className="row" onSubmit={submit}>
              <input
                name="reason"
                aria-label="Reason to pause the project"
                placeholder="reason (agents are told)"
              />
              <button
                type="submit"
                className="danger"
                disabled={pause.isPending}
              >
                Pause project
              </button>
            </form>
          )}
          {errors.reason && (
            <span className="field-error">{errors.reason}</span>
          )}
        </>
      )}
      {(formError(pause.error) ?? resume.error?.message) && (
        <p className="error" role="alert">
          {formError(pause.error) ?? resume.error?.message}
        </p>
      )}
    </section>
  );
}
