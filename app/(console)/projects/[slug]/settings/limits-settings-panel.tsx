"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { fieldErrors } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import { SettingsFormFooter } from "./settings-form-footer";

// The project's time zone, which budget periods follow, and how many tasks
// one agent may hold at once unless it has its own limit (agents page).
// Everyone in the project reads them; only an admin changes them.

export function LimitsSettingsPanel(props: { project: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const input = { project: props.project };
  const limits = useQuery(trpc.guardrails.limits.get.queryOptions(input));
  const [saved, setSaved] = useState(false);
  const update = useMutation(
    trpc.guardrails.limits.update.mutationOptions({
      onSuccess: (next) => {
        setSaved(true);
        queryClient.setQueryData(
          trpc.guardrails.limits.get.queryKey(input),
          next,
        );
        void queryClient.invalidateQueries({
          queryKey: trpc.guardrails.budgets.list.queryKey(input),
        });
      },
    }),
  );
  const errors = fieldErrors(update.error);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const perAgent = String(form.get("maxActivePerAgent") ?? "").trim();
    setSaved(false);
    update.mutate({
      project: props.project,
      timeZone: String(form.get("timeZone") ?? ""),
      maxActivePerAgent: perAgent === "" ? null : Number(perAgent),
    });
  }

  const data = limits.data;

  return (
    <section className="panel" aria-labelledby="limits-settings">
      <h2 id="limits-settings">Time zone and concurrency</h2>
      {limits.isPending && <p className="muted">Loading settings…</p>}
      {limits.error && <p className="error">{limits.error.message}</p>}
      {data && !data.canEdit && (
        <p className="muted">Only a project admin can change these.</p>
      )}
      {data && (
        <form className="stack" onSubmit={submit}>
          <label>
            Project time zone
            <input
              name="timeZone"
              required
              readOnly={!data.canEdit}
              defaultValue={data.timeZone}
              placeholder="Europe/Paris"
            />
            <span className="muted" style={{ fontWeight: 400 }}>
              An IANA name such as Europe/Paris, America/New_York or UTC. Daily,
              weekly and monthly budgets reset at midnight here.
            </span>
            {errors.timeZone && (
              <span className="field-error">{errors.timeZone}</span>
            )}
          </label>
          <label>
            Maximum active tasks per agent
            <input
              name="maxActivePerAgent"
              type="number"
              min={1}
              max={1000}
              step={1}
              readOnly={!data.canEdit}
              defaultValue={data.maxActivePerAgent ?? ""}
              placeholder="no limit"
            />
            <span className="muted" style={{ fontWeight: 400 }}>
              Tasks one agent may hold at once (1–1000); empty for no limit. An
              agent's own limit, set on the agents page, comes first.
            </span>
            {errors.maxActivePerAgent && (
              <span className="field-error">{errors.maxActivePerAgent}</span>
            )}
          </label>
          <SettingsFormFooter
            error={update.error}
            saved={saved}
            canEdit={data.canEdit}
            pending={update.isPending}
            label="Save time zone and limits"
          />
        </form>
      )}
    </section>
  );
}
