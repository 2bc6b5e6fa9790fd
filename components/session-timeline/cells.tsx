import { formatCount, formatUsd } from "@/components/charts/format";
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

  return (
    <span title={event.costSource === "reported" ? "reported" : undefined}>
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

export function TokensText(props: { event: TimelineEvent }) {
  const { event } = props;
  if (event.inputTokens === null && event.outputTokens === null) return null;
  const cache = cacheTokens(event);
  const title =
    cache.read + cache.written > 0
      ? `cache ${formatCount(cache.read)} read, ${formatCount(cache.written)} written`
      : undefined;

  return (
    <span title={title}>
      {formatCount(event.inputTokens ?? 0)} in ·{" "}
      {formatCount(event.outputTokens ?? 0)} out
    </span>
  );
}
