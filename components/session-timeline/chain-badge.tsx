"use client";

import { useEffect, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc";
import type {
  SessionEventPage,
  TimelineEvent,
} from "@/server/observability/session-events";
import { SELECT_EVENT, timelineInput } from "./timeline";

// Whether the session's hash chain still verifies. The check reads every
// event of the session, so it runs after the page has shown its rows
// rather than holding the page back. A broken chain names the event where
// it breaks; when the timeline has that row loaded, a click selects it.

/** The event `id` among the rows the unfiltered timeline has loaded. */
function useLoadedEvent(
  project: string,
  sessionId: string,
  id: string | null,
): TimelineEvent | null {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [found, setFound] = useState<TimelineEvent | null>(null);

  useEffect(() => {
    if (!id) return;
    const key = trpc.observability.sessions.events.infiniteQueryKey(
      timelineInput(project, sessionId),
    );
    const look = () => {
      const data = queryClient.getQueryData<{ pages: SessionEventPage[] }>(key);
      const event =
        data?.pages
          .flatMap((page) => page.events)
          .find((row) => row.id === id) ?? null;
      setFound((current) => (current?.id === event?.id ? current : event));
    };
    look();

    // The timeline reads more pages as the reader scrolls.
    return queryClient.getQueryCache().subscribe(look);
  }, [trpc, queryClient, project, sessionId, id]);

  return id ? found : null;
}

/** While a chain grows, it is checked again at most once per this many
 * milliseconds per event it holds: a check reads every event (about a
 * second for 20,000 on embedded PGlite), so a long session is checked
 * every minute or so rather than on every new event. */
const RECHECK_MS_PER_EVENT = 3;
const MIN_RECHECK_MS = 1_000;

export function ChainBadge(props: {
  project: string;
  sessionId: string;
  /** The session's chain length as the page last read it; when it grows
   * past what was checked, the chain is checked again. */
  length: number;
}) {
  const trpc = useTRPC();
  const chain = useQuery(
    trpc.observability.sessions.chain.queryOptions(
      { project: props.project, sessionId: props.sessionId },
      { staleTime: 60_000, refetchOnWindowFocus: false },
    ),
  );
  const checked = chain.data?.length;
  const checkedAt = chain.dataUpdatedAt;
  const { refetch, isFetching } = chain;
  useEffect(() => {
    if (checked === undefined || isFetching || props.length <= checked) {
      return;
    }
    const gap = Math.max(MIN_RECHECK_MS, checked * RECHECK_MS_PER_EVENT);
    const timer = setTimeout(
      () => void refetch(),
      Math.max(0, checkedAt + gap - Date.now()),
    );

    return () => clearTimeout(timer);
  }, [checked, checkedAt, isFetching, props.length, refetch]);
  const brokenId =
    chain.data && !chain.data.verified ? chain.data.eventId : null;
  const event = useLoadedEvent(props.project, props.sessionId, brokenId);

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
  if (chain.data.verified) {
    return (
      <span
        className="badge ok"
        title={`All ${chain.data.length} events match their hash links`}
      >
        chain verified
      </span>
    );
  }

  const label = `chain broken at event ${chain.data.brokenAt}`;
  if (!event) {
    return (
      <span
        className="badge danger"
        title={
          brokenId
            ? `${chain.data.reason} (event ${brokenId}, not loaded in the timeline yet)`
            : chain.data.reason
        }
      >
        {label}
      </span>
    );
  }
  const time = event.occurredAt.toISOString().replace("T", " ").slice(0, 19);

  return (
    <button
      type="button"
      className="badge danger"
      style={{ border: "none", cursor: "pointer", fontFamily: "inherit" }}
      title={`${chain.data.reason}. Select this event in the timeline.`}
      onClick={() =>
        window.dispatchEvent(
          new CustomEvent(SELECT_EVENT, { detail: event.id }),
        )
      }
    >
      {label}: {event.toolName ?? event.name} at {time} UTC
    </button>
  );
}
