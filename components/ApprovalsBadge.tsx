"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "./trpc";

// The number of pending approvals beside the Approvals link; nothing when
// there are none (or the count cannot be read).
export function ApprovalsBadge(props: { project: string }) {
  const trpc = useTRPC();
  const count = useQuery({
    ...trpc.approvals.count.queryOptions({ project: props.project }),
    refetchInterval: 5_000,
  });
  const pending = count.data?.pending ?? 0;
  if (pending === 0) return null;

  return (
    <span className="badge warn" aria-label={`${pending} pending`}>
      {pending}
    </span>
  );
}
