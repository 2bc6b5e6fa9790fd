"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { fieldErrors } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import { SettingsFormFooter } from "./settings-form-footer";

// How long the project keeps raw events (session timelines) and hourly
// spend rollups (spend charts). Rollups are kept at least as long as raw
// events, so spend history outlives the timelines. Admins change them.

export function RetentionSettingsPanel(props: { project: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const input = { project: props.project };
  const settings = useQuery(
    trpc.observability.retention.get.queryOptions(input),
  );
  const [saved, setSaved] = useState(false);
  const update = useMutation(
    trpc.observability.retention.update.mutationOptions({
      onSuccess: (next) => {
        setSaved(true);
        queryClient.setQueryData(
          trpc.observability.retention.get.queryKey(input),
          (old) => (old ? { ...old, ...next } : old),
        );
      },
    }),
  );
  const errors = fieldErrors(update.error);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setSaved(false);
    update.mutate({
      project: props.project,
      eventRetentionDays: Number(form.get("eventRetentionDays")),
      rollupRetentionDays: Number(form.get("rollupRetentionDays")),
    });
  }

  const data = settings.data;

  return (
    <section className="panel" aria-labelledby="retention-settings">
      <h2 id="retention-settings">Retention</h2>
      {settings.isPending && <p className="muted">Loading settings…</p>}
      {settings.error && <p className="error">{settings.error.message}</p>}
      {data && !data.canEdit && (
        <p className="muted">Only a project admin can change these.</p>
      )}
      {data && (
        <form className="stack" onSubmit={submit}>
          <label>
            Keep raw events for (days)
            <input
              name="eventRetentionDays"
              type="number"
              min={1}
              max={3650}
              step={1}
              required
              readOnly={!data.canEdit}
              defaultValue={data.eventRetentionDays}
            />
            <span className="muted" style={{ fontWeight: 400 }}>
              Session timelines older than this are removed, oldest first; a
              session&apos;s remaining events still verify against its chain.
            </span>
            {errors.eventRetentionDays && (
              <span className="field-error">{errors.eventRetentionDays}</span>
            )}
          </label>
          <label>
            Keep spend rollups for (days)
            <input
              name="rollupRetentionDays"
              type="number"
              min={1}
              max={36500}
              step={1}
              required
              readOnly={!data.canEdit}
              defaultValue={data.rollupRetentionDays}
            />
            <span className="muted" style={{ fontWeight: 400 }}>
              Hourly spend by agent, model, goal and task, which the spend
              charts read. At least as long as raw events.
            </span>
            {errors.rollupRetentionDays && (
              <span className="field-error">{errors.rollupRetentionDays}</span>
            )}
          </label>
          <SettingsFormFooter
            error={update.error}
            saved={saved}
            canEdit={data.canEdit}
            pending={update.isPending}
            label="Save retention"
          />
        </form>
      )}
    </section>
  );
}
