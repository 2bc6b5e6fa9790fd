"use client";

import { useEffect, useRef, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPCClient } from "@/components/trpc";
import type { ArrivedEvent } from "@/server/observability/session-events";
import type {
  SessionDetail,
  TokenTotals,
} from "@/server/observability/sessions";
import { SessionHeader } from "./session-header";
import { SessionTimeline } from "./timeline";

// A session page that stays current: while it is open (and its tab is in
// view), it asks every 2 s for the events that arrived after the last
// chain position it saw, and for the session's totals. New events join
// the timeline where they belong; the span and token totals grow by what
// they add. A session that has ended is asked less often, since late
// events can still arrive.

const LIVE_INTERVAL = 2_000;
const ENDED_INTERVAL = 10_000;

function addTokens(totals: TokenTotals, event: ArrivedEvent): TokenTotals {
  return {
    input: totals.input + (event.inputTokens ?? 0),
    output: totals.output + (event.outputTokens ?? 0),
    cacheRead: totals.cacheRead + (event.cacheReadTokens ?? 0),
    cacheWrite:
      totals.cacheWrite +
      (event.cacheWrite5mTokens ?? 0) +
      (event.cacheWrite1hTokens ?? 0),
  };
}

function widenSpan(
  span: { start: Date; end: Date } | null,
  event: ArrivedEvent,
): { start: Date; end: Date } {
  const start = event.occurredAt.getTime();
  const end = start + (event.durationMs ?? 0);
  if (!span) return { start: new Date(start), end: new Date(end) };

  return {
    start: start < span.start.getTime() ? new Date(start) : span.start,
    end: end > span.end.getTime() ? new Date(end) : span.end,
  };
}

interface LiveState {
  header: Pick<SessionDetail, "session" | "grade">;
  span: SessionDetail["span"];
  tokens: TokenTotals;
  /** Events that arrived after the page was read, in order of arrival. */
  arrived: ArrivedEvent[];
  /** The chain position everything above accounts for. */
  position: number;
}

export function LiveSession(props: { project: string; detail: SessionDetail }) {
  const { detail } = props;
  const client = useTRPCClient();
  const [live, setLive] = useState<LiveState>(() => ({
    header: { session: detail.session, grade: detail.grade },
    span: detail.span,
    tokens: detail.tokens,
    arrived: [],
    position: detail.position,
  }));
  const position = useRef(detail.position);
  const sessionId = detail.session.id;
  const ended = live.header.session.endedAt !== null;

  // The query's key stays the same while `after` moves on, so each answer
  // replaces the last and nothing piles up in the cache. react-query
  // stops the interval while the tab is hidden and asks again when it
  // comes back.
  const updates = useQuery({
    queryKey: ["session-updates", props.project, sessionId],
    queryFn: () =>
      client.observability.sessions.updates.query({
        project: props.project,
        sessionId,
        after: position.current,
      }),
    refetchInterval: ended ? ENDED_INTERVAL : LIVE_INTERVAL,
    refetchIntervalInBackground: false,
    refetchOnWindowFocus: true,
    staleTime: 0,
    gcTime: 0,
    structuralSharing: false,
  });

  const answer = updates.data;
  const { refetch } = updates;
  useEffect(() => {
    if (!answer || answer.position < position.current) return;
    position.current = answer.position;
    setLive((current) => {
      const known = new Set(current.arrived.map((event) => event.id));
      const fresh = answer.events.filter(
        (event) => event.chainSeq > current.position && !known.has(event.id),
      );

      return {
        header: { session: answer.session, grade: answer.grade },
        span: fresh.reduce(widenSpan, current.span),
        tokens: fresh.reduce(addTokens, current.tokens),
        arrived:
          fresh.length > 0 ? [...current.arrived, ...fresh] : current.arrived,
        position: Math.max(current.position, answer.position),
      };
    });
    // A burst larger than one answer: read the rest now.
    if (answer.more) void refetch();
  }, [answer, refetch]);

  return (
    <>
      <SessionHeader
        project={props.project}
        session={live.header.session}
        grade={live.header.grade}
        span={live.span}
        chainLength={live.position}
        tokens={live.tokens}
      />
      {updates.error ? (
        <p className="muted" role="status">
          Live updates paused: {updates.error.message}
        </p>
      ) : null}
      <SessionTimeline
        project={props.project}
        sessionId={sessionId}
        firstPage={{
          events: detail.events,
          nextCursor: detail.nextCursor,
          total: detail.session.eventCount,
          position: detail.position,
        }}
        span={live.span}
        arrived={live.arrived}
      />
    </>
  );
}
