"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { formError } from "@/components/forms";
import { useTRPC } from "@/components/trpc";

// A document's status as a badge, and the operator's override of it with
// the reason they type: both used on the documents list and a document's
// page.

const statusBadge: Record<string, string> = {
  canonical: "ok",
  stale: "warn",
  duplicate: "muted",
  superseded: "danger",
};

export function StatusBadge(props: { status: string; reason?: string | null }) {
  return (
    <span
      className={`badge ${statusBadge[props.status] ?? "warn"}`}
      title={props.reason ?? undefined}
    >
      {props.status}
    </span>
  );
}

/** Pin canonical, mark stale, or hand the document back to the rules,
 * with an optional reason that is shown and audited. */
export function StatusOverride(props: {
  project: string;
  documentId: string;
  status: string;
  overridden: boolean;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [reason, setReason] = useState("");
  const setStatus = useMutation(
    trpc.context.setStatus.mutationOptions({
      onSuccess: async () => {
        setReason("");
        await Promise.all([
          queryClient.invalidateQueries({
            queryKey: trpc.context.browse.pathKey(),
          }),
          queryClient.invalidateQueries({
            queryKey: trpc.context.document.queryKey({
              project: props.project,
              documentId: props.documentId,
            }),
          }),
        ]);
      },
    }),
  );
  const apply = (status: "canonical" | "stale" | "auto") =>
    setStatus.mutate({
      project: props.project,
      documentId: props.documentId,
      status,
      reason: status === "auto" ? undefined : reason.trim() || undefined,
    });

  return (
    <span className="row" style={{ gap: "0.4rem" }}>
      <input
        aria-label="Override reason"
        placeholder="reason (optional)"
        maxLength={500}
        value={reason}
        onChange={(e) => setReason(e.target.value)}
        style={{ minWidth: "10rem" }}
      />
      {props.status !== "canonical" && (
        <button
          type="button"
          className="secondary"
          disabled={setStatus.isPending}
          onClick={() => apply("canonical")}
        >
          Pin canonical
        </button>
      )}
      {props.status !== "stale" && (
        <button
          type="button"
          className="secondary"
          disabled={setStatus.isPending}
          onClick={() => apply("stale")}
        >
          Mark stale
        </button>
      )}
      {props.overridden && (
        <button
          type="button"
          className="secondary"
          disabled={setStatus.isPending}
          onClick={() => apply("auto")}
        >
          Use rules
        </button>
      )}
      {setStatus.error && (
        <span className="error">{formError(setStatus.error)}</span>
      )}
    </span>
  );
}
