"use client";

import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type KeyboardEvent,
} from "react";
import { useInfiniteQuery } from "@tanstack/react-query";
import { formatCount, formatDuration } from "@/components/charts/format";
import { useTRPC } from "@/components/trpc";
import type {
  ArrivedEvent,
  SessionEventPage,
  TimelineEvent,
} from "@/server/observability/session-events";
import { eventTypes, type EventType } from "@/server/observability/model";
import {
  CostText,
  FlagsBadge,
  StatusBadge,
  TokensText,
  TypeBadge,
} from "./cells";
import { EventDetail } from "./event-detail";
import { toolSummary } from "./tool-summary";
import styles from "./timeline.module.css";

// A session's events as a waterfall: one fixed-height row per event, its
// bar placed by start and duration within the session's span and indented
// by depth in the span tree. Only the rows in view (plus a margin) are in
// the DOM, and the next page is fetched as the reader nears the end of
// what is loaded, so a session of tens of thousands of events opens as
// fast as one of ten.
//
// Events that arrive while the page is open join the rows in time order.
// The reader's place is kept: rows added above the view push the scroll
// position down by as much, a reader at the bottom follows new rows, and
// one reading elsewhere gets a button that counts them and goes to them.

const ROW_HEIGHT = 34;
/** Rows rendered above and below the visible ones. */
const OVERSCAN = 12;
/** The narrowest waterfall bar, so an instant event still shows. */
const MIN_BAR_PX = 3;
/** Fetch the next page when this many loaded rows are left below view. */
const LOAD_AHEAD = 150;
const PAGE_SIZE = 500;
/** Indentation stops growing here, so deep trees keep their names. */
const MAX_INDENT = 12;
/** Before the list is measured (server render), assume this much room. */
const INITIAL_VIEWPORT = 640;

interface Filters {
  type: EventType | "";
  flaggedOnly: boolean;
  failuresOnly: boolean;
}

const noArrivals: ArrivedEvent[] = [];
const noIds: ReadonlySet<string> = new Set();

const noFilters: Filters = {
  type: "",
  flaggedOnly: false,
  failuresOnly: false,
};

/** Asks the timeline to select an event (detail: its id); the chain badge
 * sends it for the event where the chain breaks. */
export const SELECT_EVENT = "flotilla:select-event";

/** The timeline's query input for a set of filters. */
export function timelineInput(
  project: string,
  sessionId: string,
  filters: Filters = noFilters,
) {
  return {
    project,
    sessionId,
    limit: PAGE_SIZE,
    types: filters.type ? [filters.type] : undefined,
    flaggedOnly: filters.flaggedOnly,
    failuresOnly: filters.failuresOnly,
  };
}

function matchesFilters(event: TimelineEvent, filters: Filters): boolean {
  if (filters.type && event.type !== filters.type) return false;
  if (filters.flaggedOnly && event.flags.length === 0) return false;
  if (filters.failuresOnly && event.status === "ok") return false;

  return true;
}

/** The order of the pages: by time, then by order of arrival, then by id.
 * Times compare to the millisecond here; the server orders by the
 * microsecond, so loaded rows keep their page order among themselves. */
function comesBefore(a: TimelineEvent, b: TimelineEvent): boolean {
  const byTime = a.occurredAt.getTime() - b.occurredAt.getTime();
  if (byTime !== 0) return byTime < 0;
  const bySeq = (a.chainSeq ?? 0) - (b.chainSeq ?? 0);

  return bySeq < 0 || (bySeq === 0 && a.id < b.id);
}

/**
 * The loaded pages with the events that arrived since merged in by time.
 * While pages remain to be read, an arrived event later than the last
 * loaded row waits for its page, so no row shows ahead of ones not read.
 */
function mergeArrived(
  loaded: TimelineEvent[],
  arrived: ArrivedEvent[],
  filters: Filters,
  complete: boolean,
): TimelineEvent[] {
  if (arrived.length === 0) return loaded;
  const ids = new Set(loaded.map((event) => event.id));
  const frontier = loaded.at(-1);
  const extra = arrived
    .filter(
      (event) =>
        !ids.has(event.id) &&
        matchesFilters(event, filters) &&
        (complete || (frontier && !comesBefore(frontier, event))),
    )
    .sort((a, b) => (comesBefore(a, b) ? -1 : 1));
  if (extra.length === 0) return loaded;

  const merged: TimelineEvent[] = [];
  let next = 0;
  for (const event of loaded) {
    while (next < extra.length && comesBefore(extra[next], event)) {
      merged.push(extra[next++]);
    }
    merged.push(event);
  }
  for (; next < extra.length; next++) merged.push(extra[next]);

  return merged;
}

/** A session within one UTC day shows times; a longer one, dates too. */
function clockTime(date: Date, withDate: boolean): string {
  const iso = date.toISOString();

  return withDate
    ? `${iso.slice(5, 10)} ${iso.slice(11, 19)}`
    : iso.slice(11, 23);
}

function Waterfall(props: {
  event: TimelineEvent;
  span: { start: number; length: number };
}) {
  const { event, span } = props;
  const offset = event.occurredAt.getTime() - span.start;
  const left = Math.min(Math.max(offset / span.length, 0), 1) * 100;
  const width = ((event.durationMs ?? 0) / span.length) * 100;
  // Every event keeps a visible mark: at least MIN_BAR_PX wide, moved left
  // when it starts at the very end, so it stays inside the track.
  const shown = Math.min(width, 100 - left);
  const tone =
    event.status === "error"
      ? styles.barError
      : event.status === "denied"
        ? styles.barDenied
        : event.type === "llm_call"
          ? styles.barModel
          : "";

  return (
    <div className={styles.track} aria-hidden="true">
      <div
        className={`${styles.bar} ${tone}`}
        style={{
          left: `min(${left}%, calc(100% - ${MIN_BAR_PX}px))`,
          width: `max(${shown}%, ${MIN_BAR_PX}px)`,
        }}
      />
    </div>
  );
}

function TimelineRow(props: {
  event: TimelineEvent;
  index: number;
  selected: boolean;
  span: { start: number; length: number };
  withDate: boolean;
  onSelect: (index: number) => void;
}) {
  const { event, index } = props;
  const indent = Math.min(event.depth, MAX_INDENT);
  const title = event.toolName ?? event.name;
  const summary = event.toolName ? toolSummary(event.input) : null;

  return (
    <div
      role="row"
      aria-rowindex={index + 2}
      aria-selected={props.selected}
      tabIndex={props.selected ? 0 : -1}
      data-index={index}
      data-type={event.type}
      data-flagged={event.flags.length > 0 ? "true" : undefined}
      className={`${styles.grid} ${styles.row} ${
        props.selected ? styles.selected : ""
      }`}
      style={{ transform: `translateY(${index * ROW_HEIGHT}px)` }}
      onClick={() => props.onSelect(index)}
    >
      <div role="cell" className={styles.time}>
        <code title={event.occurredAt.toISOString()}>
          {clockTime(event.occurredAt, props.withDate)}
        </code>
      </div>
      <div role="cell">
        <TypeBadge type={event.type} />
      </div>
      <div
        role="cell"
        className={styles.name}
        style={{ paddingLeft: `${indent * 14}px` }}
        title={event.depth > 0 ? `depth ${event.depth}` : undefined}
      >
        {indent > 0 ? <span className={styles.branch} aria-hidden /> : null}
        <strong>{title}</strong>
        {event.toolName && event.name !== event.toolName ? (
          <span className="muted"> {event.name}</span>
        ) : null}
        {event.model ? <span className="muted"> · {event.model}</span> : null}
        {summary ? (
          <code className={styles.summary} title={summary}>
            {summary}
          </code>
        ) : null}
      </div>
      <div role="cell">
        <StatusBadge status={event.status} />
      </div>
      <div role="cell" className={styles.number}>
        {formatDuration(event.durationMs)}
      </div>
      <div role="cell" className={styles.number}>
        <TokensText event={event} compact />
      </div>
      <div role="cell" className={styles.number}>
        <CostText event={event} />
      </div>
      <div role="cell">
        <FlagsBadge flags={event.flags} />
      </div>
      <div role="cell">
        <Waterfall event={event} span={props.span} />
      </div>
    </div>
  );
}

export function SessionTimeline(props: {
  project: string;
  sessionId: string;
  /** The first events, read with the page so rows show at once. */
  firstPage: SessionEventPage;
  span: { start: Date; end: Date } | null;
  /** Events that arrived after the first page was read, in order of
   * arrival (see LiveSession). */
  arrived?: ArrivedEvent[];
}) {
  const arrived = props.arrived ?? noArrivals;
  const trpc = useTRPC();
  const [filters, setFilters] = useState<Filters>(noFilters);
  const unfiltered =
    !filters.type && !filters.flaggedOnly && !filters.failuresOnly;
  const query = useInfiniteQuery(
    trpc.observability.sessions.events.infiniteQueryOptions(
      timelineInput(props.project, props.sessionId, filters),
      {
        getNextPageParam: (page) => page.nextCursor,
        // Pages already read stay as they are: refetching them all would
        // read the whole session again.
        staleTime: Infinity,
        refetchOnWindowFocus: false,
        initialData: unfiltered
          ? { pages: [props.firstPage], pageParams: [null] }
          : undefined,
      },
    ),
  );
  const pages = query.data?.pages;
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = query;
  const loaded = useMemo(
    () => pages?.flatMap((page) => page.events) ?? [],
    [pages],
  );
  const events = useMemo(
    () => mergeArrived(loaded, arrived, filters, !hasNextPage),
    [loaded, arrived, filters, hasNextPage],
  );
  // The first page counted the events up to its position; those that
  // arrived later are added as they come.
  const counted = pages?.[0];
  const total = counted
    ? counted.total +
      arrived.filter(
        (event) =>
          event.chainSeq > counted.position && matchesFilters(event, filters),
      ).length
    : 0;

  const span = useMemo(() => {
    const start = props.span?.start.getTime() ?? 0;
    const end = props.span?.end.getTime() ?? start;

    return { start, length: Math.max(end - start, 1) };
  }, [props.span]);
  const withDate =
    props.span !== null &&
    props.span.start.toISOString().slice(0, 10) !==
      props.span.end.toISOString().slice(0, 10);

  // The visible window of the scrolling body, measured on scroll and
  // resize (one update per frame).
  const bodyRef = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: INITIAL_VIEWPORT });
  /** Whether the reader is at the bottom of the rows. */
  const following = useRef(true);
  useEffect(() => {
    const body = bodyRef.current;
    if (!body) return;
    let frame = 0;
    const measure = () => {
      following.current =
        body.scrollTop + body.clientHeight >=
        body.scrollHeight - ROW_HEIGHT / 2;
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() =>
        setView({ top: body.scrollTop, height: body.clientHeight }),
      );
    };
    measure();
    body.addEventListener("scroll", measure, { passive: true });
    const observer = new ResizeObserver(measure);
    observer.observe(body);

    return () => {
      cancelAnimationFrame(frame);
      body.removeEventListener("scroll", measure);
      observer.disconnect();
    };
  }, []);

  // When rows arrive: keep the row at the top of the view where it is, or
  // follow the newest rows from the bottom; arrived rows out of view are
  // counted as new until the reader sees them.
  const shown = useRef(events);
  const [unseen, setUnseen] = useState<ReadonlySet<string>>(noIds);
  useLayoutEffect(() => {
    const before = shown.current;
    shown.current = events;
    const body = bodyRef.current;
    if (!body || before === events || arrived.length === 0) return;
    const arrivedIds = new Set(arrived.map((event) => event.id));
    const beforeIds = new Set(before.map((event) => event.id));
    const added = events.filter(
      (event) => arrivedIds.has(event.id) && !beforeIds.has(event.id),
    );
    if (added.length === 0) return;

    if (following.current && !hasNextPage) {
      body.scrollTop = body.scrollHeight;
    } else {
      const topIndex = Math.floor(body.scrollTop / ROW_HEIGHT);
      const anchor = before[topIndex];
      const moved = anchor
        ? events.findIndex((event) => event.id === anchor.id)
        : -1;
      if (moved > topIndex) body.scrollTop += (moved - topIndex) * ROW_HEIGHT;
      setUnseen((current) => {
        const next = new Set(current);
        for (const event of added) next.add(event.id);

        return next;
      });
    }
    setView({ top: body.scrollTop, height: body.clientHeight });
  }, [events, arrived, hasNextPage]);

  const first = Math.max(0, Math.floor(view.top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(
    events.length,
    Math.ceil((view.top + view.height) / ROW_HEIGHT) + OVERSCAN,
  );

  // Arrived rows the reader has not had in view, by position.
  const unseenRows = useMemo(() => {
    const rows: number[] = [];
    if (unseen.size === 0) return rows;
    events.forEach((event, index) => {
      if (unseen.has(event.id)) rows.push(index);
    });

    return rows;
  }, [events, unseen]);
  useEffect(() => {
    if (unseenRows.length === 0) return;
    const inView = (index: number) =>
      index * ROW_HEIGHT >= view.top - ROW_HEIGHT / 2 &&
      (index + 1) * ROW_HEIGHT <= view.top + view.height + ROW_HEIGHT / 2;
    const seen = unseenRows.filter(inView);
    if (seen.length === 0 && !following.current) return;
    setUnseen((current) => {
      if (following.current) return noIds;
      const next = new Set(current);
      for (const index of seen) next.delete(events[index].id);

      return next;
    });
  }, [view, unseenRows, events]);

  function showUnseen() {
    const body = bodyRef.current;
    const target = unseenRows[0];
    if (!body || target === undefined) return;
    body.scrollTop = Math.max(0, (target - 1) * ROW_HEIGHT);
    setUnseen(noIds);
  }

  useEffect(() => {
    if (
      hasNextPage &&
      !isFetchingNextPage &&
      last + LOAD_AHEAD >= events.length
    ) {
      void fetchNextPage();
    }
  }, [hasNextPage, isFetchingNextPage, fetchNextPage, last, events.length]);

  // Selection: the chosen row opens in the detail panel, so every row keeps
  // its height. Arrow keys move it and keep it in view.
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const selectedIndex = selectedId
    ? events.findIndex((event) => event.id === selectedId)
    : -1;
  const selected = selectedIndex >= 0 ? events[selectedIndex] : null;
  // The chosen row takes the focus stop while it is rendered; otherwise
  // the list itself does, so the keyboard can always reach the rows.
  const selectedInView = selectedIndex >= first && selectedIndex < last;
  const focusNext = useRef(false);

  const select = useCallback(
    (index: number) => {
      const event = events[index];
      if (!event) return;
      setSelectedId(event.id);
      const body = bodyRef.current;
      if (!body) return;
      const top = index * ROW_HEIGHT;
      if (top < body.scrollTop) body.scrollTop = top;
      const bottom = top + ROW_HEIGHT - body.clientHeight;
      if (bottom > body.scrollTop) body.scrollTop = bottom;
    },
    [events],
  );

  useEffect(() => {
    if (!focusNext.current || selectedIndex < 0) return;
    focusNext.current = false;
    bodyRef.current
      ?.querySelector<HTMLElement>(`[data-index="${selectedIndex}"]`)
      ?.focus();
  }, [selectedIndex, first, last]);

  // The chain badge asks for its event; a row not loaded stays unchosen.
  useEffect(() => {
    const onSelectEvent = (request: Event) => {
      const id = (request as CustomEvent<string>).detail;
      const index = events.findIndex((event) => event.id === id);
      if (index < 0) return;
      focusNext.current = true;
      select(index);
      bodyRef.current?.scrollIntoView({ block: "nearest" });
    };
    window.addEventListener(SELECT_EVENT, onSelectEvent);

    return () => window.removeEventListener(SELECT_EVENT, onSelectEvent);
  }, [events, select]);

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    // With nothing chosen yet, the keys start from the top row in view.
    const from =
      selectedIndex >= 0 ? selectedIndex : Math.floor(view.top / ROW_HEIGHT);
    const moves: Record<string, number> = {
      ArrowDown: from + (selectedIndex >= 0 ? 1 : 0),
      ArrowUp: from - 1,
      Home: 0,
      End: events.length - 1,
    };
    const target = moves[event.key];
    if (target !== undefined) {
      event.preventDefault();
      focusNext.current = true;
      select(Math.min(Math.max(target, 0), events.length - 1));
    } else if (event.key === "Escape") {
      setSelectedId(null);
    }
  }

  const rows = [];
  for (let index = first; index < last; index++) {
    const event = events[index];
    rows.push(
      <TimelineRow
        key={event.id}
        event={event}
        index={index}
        selected={event.id === selectedId}
        span={span}
        withDate={withDate}
        onSelect={select}
      />,
    );
  }
  const tailRows = hasNextPage ? 1 : 0;

  return (
    <section aria-labelledby="timeline-heading">
      <div className={styles.toolbar}>
        <h2 id="timeline-heading" className={styles.heading}>
          Timeline
        </h2>
        <label className={styles.inline}>
          Type
          <select
            value={filters.type}
            onChange={(e) =>
              setFilters({ ...filters, type: e.target.value as EventType | "" })
            }
          >
            <option value="">All types</option>
            {eventTypes.map((type) => (
              <option key={type} value={type}>
                {type}
              </option>
            ))}
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            checked={filters.flaggedOnly}
            onChange={(e) =>
              setFilters({ ...filters, flaggedOnly: e.target.checked })
            }
          />
          Flagged only
        </label>
        <label>
          <input
            type="checkbox"
            checked={filters.failuresOnly}
            onChange={(e) =>
              setFilters({ ...filters, failuresOnly: e.target.checked })
            }
          />
          Failures only
        </label>
        <span
          className={`muted ${styles.loaded}`}
          data-testid="timeline-loaded"
          aria-live="polite"
        >
          {query.isPending
            ? "Loading…"
            : `${formatCount(events.length)} of ${formatCount(total)} events loaded`}
          {isFetchingNextPage ? " · loading more…" : ""}
        </span>
      </div>
      {query.error ? <p className="error">{query.error.message}</p> : null}

      <div className={styles.layout}>
        <div
          role="table"
          aria-label="Timeline"
          aria-rowcount={total + 1}
          className={`${styles.table} ${withDate ? styles.withDate : ""}`}
        >
          <div role="rowgroup" className={styles.head}>
            <div role="row" aria-rowindex={1} className={styles.grid}>
              <div role="columnheader">Time (UTC)</div>
              <div role="columnheader">Type</div>
              <div role="columnheader">Event</div>
              <div role="columnheader">Status</div>
              <div role="columnheader" className={styles.number}>
                Duration
              </div>
              <div role="columnheader" className={styles.number}>
                Tokens
              </div>
              <div role="columnheader" className={styles.number}>
                Cost
              </div>
              <div role="columnheader">Flags</div>
              <div role="columnheader" title="Waterfall">
                Waterfall
              </div>
            </div>
          </div>
          <div
            role="rowgroup"
            ref={bodyRef}
            className={styles.body}
            onKeyDown={onKeyDown}
            aria-busy={isFetchingNextPage}
            tabIndex={selectedInView ? -1 : 0}
            aria-label="Events"
          >
            <div
              role="presentation"
              className={styles.sizer}
              style={{ height: (events.length + tailRows) * ROW_HEIGHT }}
            >
              {rows}
              {tailRows > 0 ? (
                <div
                  role="presentation"
                  className={`${styles.row} ${styles.more} muted`}
                  style={{
                    transform: `translateY(${events.length * ROW_HEIGHT}px)`,
                  }}
                >
                  Loading more events…
                </div>
              ) : null}
            </div>
            {!query.isPending && events.length === 0 ? (
              <p className={`muted ${styles.empty}`}>
                No events match these filters.
              </p>
            ) : null}
          </div>
        </div>
        {unseenRows.length > 0 ? (
          <button
            type="button"
            className={styles.newEvents}
            onClick={showUnseen}
            data-testid="new-events"
          >
            {formatCount(unseenRows.length)} new event
            {unseenRows.length === 1 ? "" : "s"}{" "}
            {unseenRows[0] * ROW_HEIGHT < view.top ? "↑" : "↓"}
          </button>
        ) : null}
        {selected ? (
          <EventDetail
            project={props.project}
            event={selected}
            onClose={() => setSelectedId(null)}
          />
        ) : null}
      </div>
    </section>
  );
}
