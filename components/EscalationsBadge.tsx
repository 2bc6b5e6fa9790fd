"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "./trpc";

// The number of open escalations beside the Escalations link; nothing when
// there are none (or the count cannot be read).
export function EscalationsBadge(props: { project: string }) {
  const trpc = useTRPC();
  const count = useQuery({
    ...trpc.orchestration.escalations.count.queryOptions({
      project: props.project,
    }),
    refetchInterval: 30_000,
  });
  const open = count.data?.open ?? 0;
  if (open === 0) return null;

  return (
    <span className="badge warn" aria-label={`${open} open`}>
      {open}
    </span>
  );
}
