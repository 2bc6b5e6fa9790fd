import Link from "next/link";
import {
  formatCount,
  formatDuration,
  formatUsd,
  formatUtc,
} from "@/components/charts/format";
import { requirePageProject } from "@/server/api/page-auth";
import { verifySessionChain } from "@/server/observability/chain";
import {
  getSession,
  type EventFlag,
  type SessionEvent,
} from "@/server/observability/sessions";

// One session's timeline: every event in time order, with its tool input
// and result behind a disclosure (secrets masked), tokens, cost, status and
// red flags, and whether the session's hash chain still verifies.

function statusBadge(status: string) {
  const tone =
    status === "error" ? "danger" : status === "denied" ? "warn" : "ok";

  return <span className={`badge ${tone}`}>{status}</span>;
}

const severityTone: Record<string, string> = {
  critical: "danger",
  high: "danger",
  medium: "warn",
  low: "muted",
};

function FlagBadges(props: { flags: EventFlag[] }) {
  if (props.flags.length === 0) return null;

  return (
    <div className="row" aria-label="Red flags">
      {props.flags.map((flag, i) => (
        <span
          key={`${flag.rule}-${i}`}
          className={`badge ${severityTone[flag.severity] ?? "warn"}`}
          title={flag.excerpt}
          data-testid="event-flag"
        >
          {flag.rule} · {flag.severity}
        </span>
      ))}
    </div>
  );
}

function costCell(event: SessionEvent) {
  if (event.costSource === "unpriced") {
    return (
      <span className="badge warn" title={`No price for ${event.model ?? "?"}`}>
        unpriced
      </span>
    );
  }
  if (event.costUsd === null) return <span className="muted">—</span>;

  return (
    <>
      {formatUsd(event.costUsd)}
      {event.costSource === "reported" ? (
        <span className="muted"> (reported)</span>
      ) : null}
    </>
  );
}

function tokensCell(event: SessionEvent) {
  if (event.inputTokens === null && event.outputTokens === null) return null;
  const cacheRead = event.cacheReadTokens ?? 0;
  const cacheWrite =
    (event.cacheWrite5mTokens ?? 0) + (event.cacheWrite1hTokens ?? 0);

  return (
    <span>
      {formatCount(event.inputTokens)} in · {formatCount(event.outputTokens)}{" "}
      out
      {cacheRead + cacheWrite > 0 ? (
        <span className="muted">
          {" "}
          · cache {formatCount(cacheRead)} read, {formatCount(cacheWrite)}{" "}
          written
        </span>
      ) : null}
    </span>
  );
}

function Json(props: { label: string; value: unknown }) {
  if (props.value === null || props.value === undefined) return null;
  const text =
    typeof props.value === "string"
      ? props.value
      : JSON.stringify(props.value, null, 2);

  return (
    <details>
      <summary>{props.label}</summary>
      <pre>{text.length > 20_000 ? `${text.slice(0, 20_000)}\n…` : text}</pre>
    </details>
  );
}

export default async function SessionPage(props: {
  params: Promise<{ slug: string; id: string }>;
}) {
  const { slug, id } = await props.params;
  const { db, actor, project } = await requirePageProject(slug);
  const { session, events, truncated } = await getSession(db, actor, {
    project: project.slug,
    sessionId: decodeURIComponent(id),
  });
  const chain = await verifySessionChain(db, actor, {
    project: project.slug,
    sessionId: session.id,
  });

  return (
    <>
      <p>
        <Link href={`/projects/${project.slug}/sessions`}>← Sessions</Link>
      </p>
      <h1>{session.title ?? session.externalId}</h1>
      <div className="panel row" aria-label="Session totals">
        <span>
          Agent <strong>{session.agentName}</strong>
        </span>
        <span className="badge muted">{session.source}</span>
        <span>Started {formatUtc(session.startedAt)}</span>
        {session.endedAt ? (
          <span>Ended {formatUtc(session.endedAt)}</span>
        ) : null}
        <span>{formatCount(session.eventCount)} events</span>
        <span>
          {session.errorCount > 0 ? (
            <span className="badge danger">{session.errorCount} errors</span>
          ) : (
            "no errors"
          )}
        </span>
        <span>
          Cost{" "}
          <strong data-testid="session-cost">
            {formatUsd(session.costUsd)}
          </strong>
          {session.unpricedCount > 0 ? (
            <>
              {" "}
              <span className="badge warn">
                + {session.unpricedCount} unpriced
              </span>
            </>
          ) : null}
        </span>
        <span>
          {session.flagCount > 0 ? (
            <span className="badge danger">{session.flagCount} flags</span>
          ) : (
            "no flags"
          )}
        </span>
        <span data-testid="session-chain">
          {chain.verified ? (
            <span
              className="badge ok"
              title={`All ${chain.length} events match their hash links`}
            >
              chain verified
            </span>
          ) : (
            <span className="badge danger" title={chain.reason}>
              chain broken at event {chain.brokenAt}
            </span>
          )}
        </span>
        <code className="muted">{session.externalId}</code>
      </div>
      {truncated ? (
        <p className="muted">
          Showing the first {events.length} events of {session.eventCount}.
        </p>
      ) : null}

      <table aria-label="Timeline">
        <thead>
          <tr>
            <th>Time</th>
            <th>Type</th>
            <th>Event</th>
            <th>Status</th>
            <th>Tokens</th>
            <th>Cost</th>
            <th>Duration</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr
              key={event.id}
              data-type={event.type}
              data-flagged={event.flags.length > 0 ? "true" : undefined}
            >
              <td>
                <code>{formatUtc(event.occurredAt).slice(5, 19)}</code>
              </td>
              <td>
                <span className="badge muted">{event.type}</span>
              </td>
              <td>
                <div>
                  <strong>{event.toolName ?? event.name}</strong>
                  {event.toolName && event.name !== event.toolName ? (
                    <span className="muted"> {event.name}</span>
                  ) : null}
                  {event.model ? (
                    <span className="muted"> · {event.model}</span>
                  ) : null}
                  {event.taskTitle ? (
                    <span className="muted"> · task {event.taskTitle}</span>
                  ) : null}
                </div>
                <FlagBadges flags={event.flags} />
                <Json label="Input" value={event.input} />
                <Json label="Result" value={event.output} />
                <Json label="Attributes" value={event.attributes} />
              </td>
              <td>{statusBadge(event.status)}</td>
              <td>{tokensCell(event)}</td>
              <td>{costCell(event)}</td>
              <td>{formatDuration(event.durationMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
