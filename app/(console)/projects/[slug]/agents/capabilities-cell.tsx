"use client";

import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { fieldErrors, formError } from "@/components/forms";
import { useTRPC } from "@/components/trpc";

// An agent's capability tags on the agents page, with an inline editor for
// operators and admins. Claims give a task that needs tags only to an
// agent holding all of them.

/** "a, b,c" as ["a", "b", "c"]; blank entries are dropped. */
export function parseTags(text: string): string[] {
  return text
    .split(",")
    .map((tag) => tag.trim())
    .filter((tag) => tag !== "");
}

/** The first error about the capability list or one of its tags. */
export function capabilityError(errors: Record<string, string>) {
  const key = Object.keys(errors).find((path) =>
    path.startsWith("capabilities"),
  );

  return key ? errors[key] : null;
}

export function CapabilitiesCell(props: {
  project: string;
  agent: { id: string; name: string; capabilities: string[] };
  canEdit: boolean;
  onSaved: () => Promise<unknown>;
}) {
  const trpc = useTRPC();
  const [editing, setEditing] = useState(false);
  const save = useMutation(
    trpc.identity.agents.setCapabilities.mutationOptions({
      onSuccess: async () => {
        setEditing(false);
        await props.onSaved();
      },
    }),
  );
  const { agent } = props;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    save.mutate({
      project: props.project,
      agent: agent.id,
      capabilities: parseTags(String(form.get("capabilities") ?? "")),
    });
  }

  if (editing) {
    const problem =
      capabilityError(fieldErrors(save.error)) ?? formError(save.error);

    return (
      <form onSubmit={submit} style={{ display: "grid", gap: "0.35rem" }}>
        <input
          name="capabilities"
          aria-label={`Capabilities of ${agent.name}`}
          defaultValue={agent.capabilities.join(", ")}
          placeholder="typescript, migrations"
          autoFocus
        />
        {problem && (
          <span className="field-error" role="alert">
            {problem}
          </span>
        )}
        <div className="row" style={{ gap: "0.4rem" }}>
          <button type="submit" disabled={save.isPending}>
            Save
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              save.reset();
              setEditing(false);
            }}
          >
            Cancel
          </button>
        </div>
      </form>
    );
  }

  return (
    <div className="row" style={{ gap: "0.3rem" }}>
      {agent.capabilities.length === 0 && <span className="muted">none</span>}
      {agent.capabilities.map((tag) => (
        <span key={tag} className="badge muted" data-capability={tag}>
          {tag}
        </span>
      ))}
      {props.canEdit && (
        <button
          type="button"
          className="secondary"
          style={{ padding: "0.1rem 0.5rem", fontSize: "0.8rem" }}
          aria-label={`Edit capabilities of ${agent.name}`}
          onClick={() => setEditing(true)}
        >
          Edit
        </button>
      )}
    </div>
  );
}
