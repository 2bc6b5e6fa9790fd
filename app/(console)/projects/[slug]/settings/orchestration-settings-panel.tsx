"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { fieldErrors } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import { SettingsFormFooter } from "./settings-form-footer";

// How claims and leases behave in the project: how often a task may be
// claimed before it fails, and how long a lease lasts. Everyone in the
// project reads these; only an admin changes them.

const fields = [
  {
    name: "maxAttempts",
    label: "Maximum attempts",
    hint: "Claims a task may use up before the lease sweeper fails it (1–20).",
    min: 1,
    max: 20,
  },
  {
    name: "defaultLeaseSeconds",
    label: "Default lease (seconds)",
    hint: "Lease length when a claim names none (10–86400, at most the maximum).",
    min: 10,
    max: 86_400,
  },
  {
    name: "maxLeaseSeconds",
    label: "Maximum lease (seconds)",
    hint: "The longest lease a claim or heartbeat may ask for (10–86400).",
    min: 10,
    max: 86_400,
  },
] as const;

type FieldName = (typeof fields)[number]["name"];

/** A number field as the user typed it; anything else is sent as NaN so
 * validation names the field. */
function whole(value: FormDataEntryValue | null): number {
  const text = String(value ?? "").trim();

  return text === "" ? Number.NaN : Number(text);
}

export function OrchestrationSettingsPanel(props: { project: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const input = { project: props.project };
  const settings = useQuery(
    trpc.orchestration.settings.get.queryOptions(input),
  );
  const [saved, setSaved] = useState(false);
  const update = useMutation(
    trpc.orchestration.settings.update.mutationOptions({
      onSuccess: async (next) => {
        setSaved(true);
        queryClient.setQueryData(
          trpc.orchestration.settings.get.queryKey(input),
          next,
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
      maxAttempts: whole(form.get("maxAttempts")),
      defaultLeaseSeconds: whole(form.get("defaultLeaseSeconds")),
      maxLeaseSeconds: whole(form.get("maxLeaseSeconds")),
    });
  }

  return (
    <section className="panel" aria-labelledby="orchestration-settings">
      <h2 id="orchestration-settings">Claims and leases</h2>
      {settings.isPending && <p className="muted">Loading settings…</p>}
      {settings.error && <p className="error">{settings.error.message}</p>}
      {settings.data && !settings.data.canEdit && (
        <p className="muted">Only a project admin can change these.</p>
      )}
      {settings.data && (
        <form className="stack" onSubmit={submit}>
          {fields.map((field) => (
            <label key={field.name}>
              {field.label}
              <input
                name={field.name}
                type="number"
                step={1}
                min={field.min}
                max={field.max}
                required
                readOnly={!settings.data.canEdit}
                defaultValue={settings.data[field.name as FieldName]}
              />
              <span className="muted" style={{ fontWeight: 400 }}>
                {field.hint}
              </span>
              {errors[field.name] && (
                <span className="field-error">{errors[field.name]}</span>
              )}
            </label>
          ))}
          <SettingsFormFooter
            error={update.error}
            saved={saved}
            canEdit={settings.data.canEdit}
            pending={update.isPending}
            label="Save settings"
          />
        </form>
      )}
    </section>
  );
}
