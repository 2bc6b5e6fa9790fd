"use client";

import type { FormEvent, ReactNode } from "react";

// A table cell on the agents page that shows a value and, for operators and
// admins, swaps to a one-field form to change it. The cell that uses it owns
// the mutation and the editing flag; this draws the view and the form.

export function InlineEditCell(props: {
  editing: boolean;
  setEditing: (editing: boolean) => void;
  canEdit: boolean;
  /** Accessible name of the Edit button, e.g. "Edit capabilities of x". */
  editLabel: string;
  /** What the cell shows when not editing. */
  view: ReactNode;
  /** The form's input(s). */
  input: ReactNode;
  problem: string | null | undefined;
  pending: boolean;
  onSubmit: (event: FormEvent<HTMLFormElement>) => void;
  /** Clears the mutation's error when the form is cancelled. */
  onCancel: () => void;
}) {
  if (props.editing) {
    return (
      <form
        onSubmit={props.onSubmit}
        style={{ display: "grid", gap: "0.35rem" }}
      >
        {props.input}
        {props.problem && (
          <span className="field-error" role="alert">
            {props.problem}
          </span>
        )}
        <div className="row" style={{ gap: "0.4rem" }}>
          <button type="submit" disabled={props.pending}>
            Save
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              props.onCancel();
              props.setEditing(false);
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
      {props.view}
      {props.canEdit && (
        <button
          type="button"
          className="secondary"
          style={{ padding: "0.1rem 0.5rem", fontSize: "0.8rem" }}
          aria-label={props.editLabel}
          onClick={() => props.setEditing(true)}
        >
          Edit
        </button>
      )}
    </div>
  );
}
