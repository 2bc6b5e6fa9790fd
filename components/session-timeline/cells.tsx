import {
  formatCompact,
  formatCount,
  formatUsd,
  formatUsdExact,
} from "@/components/charts/format";
import type {
  EventFlag,
  TimelineEvent,
} from "@/server/observability/session-events";

// The small pieces a timeline row and the event detail share: status,
// cost (never $0 for an event without a price), tokens and red flags.

export function StatusBadge(props: { status: string }) {
  const tone =
    props.status === "error"
      ? "danger"
      : props.status === "denied"
        ? "warn"
        : "ok";

  return <span className={`badge ${tone}`}>{props.status}</span>;
}

export const severityTone: Record<string, string> = {
  critical: "danger",
  high: "danger",
  medium: "warn",
  low: "muted",
};

/** The strongest severity first, so a row's one badge shows the worst. */
const severityRank = ["critical", "high", "medium", "low"];

export function worstFlag(flags: EventFlag[]): EventFlag | null {
  let worst: EventFlag | null = null;
  for (const flag of flags) {
    const rank = severityRank.indexOf(flag.severity);
    if (!worst || rank < severityRank.indexOf(worst.severity)) worst = flag;
  }

  return worst;
}

export function FlagsBadge(props: { flags: EventFlag[] }) {
  const worst = worstFlag(props.flags);
  if (!worst) return null;
  const label = `${props.flags.length} flag${props.flags.length === 1 ? "" : "s"}`;

  return (
    <span
      className={`badge ${severityTone[worst.severity] ?? "warn"}`}
      title={props.flags.map((f) => `${f.rule} (${f.severity})`).join(", ")}
      data-testid="event-flag"
    >
      {label}
    </span>
  );
}

export function CostText(props: { event: TimelineEvent }) {
  const { event } = props;
  if (event.costSource === "unpriced") {
    return (
      <span className="badge warn" title={`No price for ${event.model ?? "?"}`}>
        unpriced
      </span>
    );
  }
  if (event.costUsd === null) return <span className="muted">—</span>;

  const exact = formatUsdExact(event.costUsd);

  return (
    <span
      title={event.costSource === "reported" ? `${exact}, reported` : exact}
    >
      {formatUsd(event.costUsd)}
      {event.costSource === "reported" ? (
        <span className="muted">*</span>
      ) : null}
    </span>
  );
}

export function cacheTokens(event: TimelineEvent) {
  return {
    read: event.cacheReadTokens ?? 0,
    written: (event.cacheWrite5mTokens ?? 0) + (event.cacheWrite1hTokens ?? 0),
  };
}

/** Input and output tokens; `compact` shortens them for a table column. */
export function TokensText(props: { event: TimelineEvent; compact?: boolean }) {
  const { event } = props;
  const format = props.compact ? formatCompact : formatCount;
  if (event.inputTokens === null && event.outputTokens === null) return null;
  const cache = cacheTokens(event);
  const input = event.inputTokens ?? 0;
  const output = event.outputTokens ?? 0;
  const title =
    `${formatCount(input)} input, ${formatCount(output)} output tokens` +
    (cache.read + cache.written > 0
      ? `; cache ${formatCount(cache.read)} read, ${formatCount(cache.written)} written`
      : "");

  return (
    <span title={title}>
      {format(input)} in · {format(output)} out
    </span>
  );
}

/** Short names for the type column; the full type is in its title. */
const typeLabels: Record<string, string> = {
  llm_call: "llm",
  tool_call: "tool",
  file_change: "file",
  context_lookup: "context",
  guardrail_decision: "guardrail",
  session_start: "start",
  session_end: "end",
  notification: "notice",
};

export function TypeBadge(props: { type: string }) {
  return (
    <span className="badge muted" title={props.type}>
      {typeLabels[props.type] ?? props.type}
    </span>
  );
}
