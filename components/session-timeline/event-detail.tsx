import Link from "next/link";
import { formatCount, formatDuration } from "@/components/charts/format";
import type { TimelineEvent } from "@/server/observability/session-events";
import {
  cacheTokens,
  CostText,
  severityTone,
  StatusBadge,
  TokensText,
} from "./cells";
import styles from "./timeline.module.css";

// One event in full beside the timeline: what it was, what it cost, where
// it sits in the span tree, its red flags, and the tool input and result
// (secrets already masked by the server).

const MAX_SHOWN = 20_000;

function JsonBlock(props: { label: string; value: unknown }) {
  if (props.value === null || props.value === undefined) return null;
  const text =
    typeof props.value === "string"
      ? props.value
      : JSON.stringify(props.value, null, 2);

  return (
    <section aria-label={props.label}>
      <h3 className={styles.detailHeading}>{props.label}</h3>
      <pre className={styles.json}>
        {text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}\n…` : text}
      </pre>
    </section>
  );
}

function Pair(props: { term: string; children: React.ReactNode }) {
  if (props.children === null || props.children === undefined) return null;

  return (
    <>
      <dt>{props.term}</dt>
      <dd>{props.children}</dd>
    </>
  );
}

export function EventDetail(props: {
  project: string;
  event: TimelineEvent;
  onClose: () => void;
}) {
  const { event, project } = props;
  const cache = cacheTokens(event);
  const hasTokens = event.inputTokens !== null || event.outputTokens !== null;

  return (
    <aside className={styles.detail} aria-label="Event detail">
      <div className={styles.detailHead}>
        <div>
          <span className="badge muted">{event.type}</span>{" "}
          <StatusBadge status={event.status} />
          <h2 className={styles.detailTitle}>{event.toolName ?? event.name}</h2>
        </div>
        <button
          type="button"
          className="secondary"
          onClick={props.onClose}
          aria-label="Close event detail"
        >
          Close
        </button>
      </div>

      <dl className="details pairs">
        <Pair term="Name">{event.name}</Pair>
        <Pair term="Time">
          <code>
            {event.occurredAt.toISOString().replace("T", " ").slice(0, 23)} UTC
          </code>
        </Pair>
        <Pair term="Duration">
          {event.durationMs === null ? null : formatDuration(event.durationMs)}
        </Pair>
        <Pair term="Model">
          {event.model
            ? `${event.model}${event.provider ? ` (${event.provider})` : ""}`
            : null}
        </Pair>
        <Pair term="Tokens">
          {hasTokens ? (
            <>
              <TokensText event={event} />
              {cache.read + cache.written > 0 ? (
                <span className="muted">
                  {" "}
                  · cache {formatCount(cache.read)} read,{" "}
                  {formatCount(cache.written)} written
                </span>
              ) : null}
            </>
          ) : null}
        </Pair>
        <Pair term="Cost">
          <>
            <CostText event={event} />
            {event.costSource === "computed" ||
            event.costSource === "reported" ? (
              <span className="muted"> ({event.costSource})</span>
            ) : null}
          </>
        </Pair>
        <Pair term="Span">
          {event.spanId ? <code>{event.spanId}</code> : null}
        </Pair>
        <Pair term="Parent span">
          {event.parentSpanId ? <code>{event.parentSpanId}</code> : null}
        </Pair>
        <Pair term="Depth">{event.depth > 0 ? event.depth : null}</Pair>
        <Pair term="Trace">
          {event.traceId ? <code>{event.traceId}</code> : null}
        </Pair>
        <Pair term="Task">
          {event.taskId ? (
            <Link href={`/projects/${project}/tasks/${event.taskId}`}>
              {event.taskTitle ?? event.taskId}
            </Link>
          ) : null}
        </Pair>
        <Pair term="Goal">
          {event.goalId ? (
            <Link href={`/projects/${project}/goals/${event.goalId}`}>
              {event.goalTitle ?? event.goalId}
            </Link>
          ) : null}
        </Pair>
        <Pair term="Source">{event.source}</Pair>
        <Pair term="Event id">
          <code>{event.eventKey}</code>
        </Pair>
      </dl>

      {event.flags.length > 0 ? (
        <section aria-label="Red flags">
          <h3 className={styles.detailHeading}>Red flags</h3>
          <ul className={styles.flagList}>
            {event.flags.map((flag, i) => (
              <li key={`${flag.rule}-${i}`}>
                <span
                  className={`badge ${severityTone[flag.severity] ?? "warn"}`}
                >
                  {flag.severity}
                </span>{" "}
                <strong>{flag.rule}</strong>
                <div>
                  <code className="muted">{flag.excerpt}</code>
                </div>
              </li>
            ))}
          </ul>
        </section>
      ) : null}

      <JsonBlock label="Input" value={event.input} />
      <JsonBlock label="Result" value={event.output} />
      <JsonBlock label="Attributes" value={event.attributes} />
    </aside>
  );
}
