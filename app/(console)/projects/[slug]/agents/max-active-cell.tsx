"use client";

import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { fieldErrors, formError } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import { InlineEditCell } from "./inline-edit-cell";

// How many tasks an agent may hold at once, on the agents page: its own
// limit, else the project's default (settings page). Operators and admins
// change it inline; claims beyond it are refused with the limit named.

export function MaxActiveCell(props: {
  project: string;
  agent: { id: string; name: string; maxActiveTasks: number | null };
  projectDefault: number | null;
  canEdit: boolean;
  onSaved: () => Promise<unknown>;
}) {
  const trpc = useTRPC();
  const [editing, setEditing] = useState(false);
  const save = useMutation(
    trpc.guardrails.limits.setAgent.mutationOptions({
      onSuccess: async () => {
        setEditing(false);
        await props.onSaved();
      },
    }),
  );
  const { agent } = props;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const text = String(
      new FormData(event.currentTarget).get("maxActiveTasks") ?? "",
    ).trim();
    save.mutate({
      project: props.project,
      agent: agent.id,
      maxActiveTasks: text === "" ? null : Number(text),
    });
  }

  return (
    <InlineEditCell
      editing={editing}
      setEditing={setEditing}
      canEdit={props.canEdit}
      editLabel={`Edit maximum active tasks of ${agent.name}`}
      problem={fieldErrors(save.error).maxActiveTasks ?? formError(save.error)}
      pending={save.isPending}
      onSubmit={submit}
      onCancel={() => save.reset()}
      input={
        <input
          name="maxActiveTasks"
          type="number"
          min={1}
          max={1000}
          step={1}
          aria-label={`Maximum active tasks of ${agent.name}`}
          defaultValue={agent.maxActiveTasks ?? ""}
          placeholder="project default"
          autoFocus
        />
      }
      view={
        <span data-max-active={agent.name}>
          {agent.maxActiveTasks !== null ? (
            agent.maxActiveTasks
          ) : props.projectDefault !== null ? (
            <span className="muted">{props.projectDefault} (project)</span>
          ) : (
            <span className="muted">no limit</span>
          )}
        </span>
      }
    />
  );
}
