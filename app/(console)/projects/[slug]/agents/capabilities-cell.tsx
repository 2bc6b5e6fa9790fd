"use client";

import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { fieldErrors, formError } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import { InlineEditCell } from "./inline-edit-cell";

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

  return (
    <InlineEditCell
      editing={editing}
      setEditing={setEditing}
      canEdit={props.canEdit}
      editLabel={`Edit capabilities of ${agent.name}`}
      problem={
        capabilityError(fieldErrors(save.error)) ?? formError(save.error)
      }
      pending={save.isPending}
      onSubmit={submit}
      onCancel={() => save.reset()}
      input={
        <input
          name="capabilities"
          aria-label={`Capabilities of ${agent.name}`}
          defaultValue={agent.capabilities.join(", ")}
          placeholder="typescript, migrations"
          autoFocus
        />
      }
      view={
        <>
          {agent.capabilities.length === 0 && (
            <span className="muted">none</span>
          )}
          {agent.capabilities.map((tag) => (
            <span key={tag} className="badge muted" data-capability={tag}>
              {tag}
            </span>
          ))}
        </>
      }
    />
  );
}
