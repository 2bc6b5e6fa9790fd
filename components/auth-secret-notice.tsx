"use client";

import { useState } from "react";

// A new token's secret, shown exactly once.
export function SecretNotice(props: {
  title: string;
  secret: string;
  onDismiss: () => void;
}) {
  const [copied, setCopied] = useState(false);

  async function copy() {
    await navigator.clipboard.writeText(props.secret);
    setCopied(true);
  }

  return (
    <div className="panel" role="status" aria-label="New token">
      <strong>{props.title}</strong>
      <p>
        Copy this token now: it is shown only once and cannot be read again.
      </p>
      <pre data-testid="new-token">{props.secret}</pre>
      <div className="row">
        <button type="button" className="secondary" onClick={copy}>
          {copied ? "Copied" : "Copy token"}
        </button>
        <button type="button" className="secondary" onClick={props.onDismiss}>
          Done
        </button>
      </div>
    </div>
  );
}
