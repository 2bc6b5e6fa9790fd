"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { fieldErrors } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import { SettingsFormFooter } from "./settings-form-footer";

// When a plan needs an admin rather than an operator (above a cost, or
// touching a protected path), and how long an "ask" decision waits for a
// person before it is denied. Everyone reads these; an admin changes them.

/** A number as typed; blank is null (no threshold), anything else that is
 * not a number is sent as NaN so validation names the field. */
function dollarsOrNone(value: FormDataEntryValue | null): number | null {
  const text = String(value ?? "").trim();

  return text === "" ? null : Number(text);
}

export function ApprovalSettingsPanel(props: { project: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const input = { project: props.project };
  const settings = useQuery(
    trpc.orchestration.settings.get.queryOptions(input),
  );
  const [saved, setSaved] = useState(false);
  const update = useMutation(
    trpc.orchestration.settings.update.mutationOptions({
      onSuccess: (next) => {
        setSaved(true);
        queryClient.setQueryData(
          trpc.orchestration.settings.get.queryKey(input),
          next,
        );
      },
    }),
  );
  const errors = fieldErrors(update.error);
  const data = settings.data;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setSaved(false);
    const timeout = String(form.get("askTimeoutSeconds") ?? "").trim();
    update.mutate({
      project: props.project,
      adminApprovalAboveUsd: dollarsOrNone(form.get("adminApprovalAboveUsd")),
      protectedPaths: String(form.get("protectedPaths") ?? "")
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== ""),
      askTimeoutSeconds: timeout === "" ? Number.NaN : Number(timeout),
    });
  }

  return (
    <section className="panel" aria-labelledby="approval-settings">
      <h2 id="approval-settings">Approvals</h2>
      {settings.isPending && <p className="muted">Loading settings…</p>}
      {settings.error && <p className="error">{settings.error.message}</p>}
      {data && !data.canEdit && (
        <p className="muted">Only a project admin can change these.</p>
      )}
      {data && (
        <form className="stack" onSubmit={submit}>
          <label>
            Admin approval above (USD)
            <input
              name="adminApprovalAboveUsd"
              type="number"
              step={0.01}
              min={0}
              readOnly={!data.canEdit}
              defaultValue={data.adminApprovalAboveUsd ?? ""}
              placeholder="no threshold"
            />
            <span className="muted" style={{ fontWeight: 400 }}>
              Plans whose task estimates add up to more need an admin&apos;s
              approval. Blank: no threshold.
            </span>
            {errors.adminApprovalAboveUsd && (
              <span className="field-error">
                {errors.adminApprovalAboveUsd}
              </span>
            )}
          </label>
          <label>
            Protected paths
            <textarea
              name="protectedPaths"
              rows={4}
              readOnly={!data.canEdit}
              defaultValue={data.protectedPaths.join("\n")}
              placeholder={"migrations/**\n.github/**"}
            />
            <span className="muted" style={{ fontWeight: 400 }}>
              One glob a line. A plan with a task scope touching one needs an
              admin&apos;s approval.
            </span>
            {Object.entries(errors)
              .filter(([path]) => path.startsWith("protectedPaths"))
              .map(([path, message]) => (
                <span key={path} className="field-error">
                  {message}
                </span>
              ))}
          </label>
          <label>
            Ask timeout (seconds)
            <input
              name="askTimeoutSeconds"
              type="number"
              step={1}
              min={10}
              max={86_400}
              required
              readOnly={!data.canEdit}
              defaultValue={data.askTimeoutSeconds}
            />
            <span className="muted" style={{ fontWeight: 400 }}>
              How long a tool call an &quot;ask&quot; rule holds waits for a
              person before it is denied (10–86400).
            </span>
            {errors.askTimeoutSeconds && (
              <span className="field-error">{errors.askTimeoutSeconds}</span>
            )}
          </label>
          <SettingsFormFooter
            error={update.error}
            saved={saved}
            canEdit={data.canEdit}
            pending={update.isPending}
            label="Save approval settings"
          />
        </form>
      )}
    </section>
  );
}
