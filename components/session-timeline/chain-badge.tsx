"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc";

// Whether the session's hash chain still verifies. The check reads every
// event of the session, so it runs after the page has shown its rows
// rather than holding the page back.

export function ChainBadge(props: { project: string; sessionId: string }) {
  const trpc = useTRPC();
  const chain = useQuery(
    trpc.observability.sessions.chain.queryOptions(
      { project: props.project, sessionId: props.sessionId },
      { staleTime: 60_000, refetchOnWindowFocus: false },
    ),
  );

  if (chain.error) {
    return (
      <span className="badge warn" title={chain.error.message}>
        chain not checked
      </span>
    );
  }
  if (!chain.data) {
    return <span className="badge muted">checking chain…</span>;
  }

  return chain.data.verified ? (
    <span
      className="badge ok"
      title={`All ${chain.data.length} events match their hash links`}
    >
      chain verified
    </span>
  ) : (
    <span className="badge danger" title={chain.data.reason}>
      chain broken at event {chain.data.brokenAt}
    </span>
  );
}
