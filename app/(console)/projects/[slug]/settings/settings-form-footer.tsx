"use client";

import { formError } from "@/components/forms";

// The end of a settings form: the error not tied to one field, "Saved."
// after a successful save, and the save button for those who may edit.

export function SettingsFormFooter(props: {
  error: unknown;
  saved: boolean;
  canEdit: boolean;
  pending: boolean;
  label: string;
}) {
  const problem = formError(props.error);

  return (
    <>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      {props.saved && !props.error && (
        <p role="status" style={{ color: "var(--ok)", margin: 0 }}>
          Saved.
        </p>
      )}
      {props.canEdit && (
        <button type="submit" disabled={props.pending}>
          {props.label}
        </button>
      )}
    </>
  );
}
