"use client";

import {
  formatCount,
  formatDuration,
  formatUsd,
  formatUsdExact,
  formatUtc,
} from "@/components/charts/format";
import type {
  SessionDetail,
  SessionSummary,
  TokenTotals,
} from "@/server/observability/sessions";
import { ChainBadge } from "./chain-badge";

// A session's totals, grade and hash-chain verdict above its timeline.
// The live session page passes fresh values as events arrive.

const gradeTone: Record<string, string> = {
  A: "ok",
  B: "ok",
  C: "warn",
  D: "danger",
  F: "danger",
};

function tokenTotal(tokens: TokenTotals): number {
  return tokens.input + tokens.output + tokens.cacheRead + tokens.cacheWrite;
}

export function SessionHeader(props: {
  project: string;
  session: SessionSummary;
  grade: SessionDetail["grade"];
  span: { start: Date; end: Date } | null;
  /** The session's chain length as last read. */
  chainLength: number;
  tokens: TokenTotals;
}) {
  const { session, span, grade, tokens } = props;

  return (
    <>
      <div className="panel row" aria-label="Session totals">
        <span>
          Agent <strong>{session.agentName}</strong>
        </span>
        <span className="badge muted">{session.source}</span>
        <span>Started {formatUtc(session.startedAt)}</span>
        {session.endedAt ? (
          <span>Ended {formatUtc(session.endedAt)}</span>
        ) : (
          <span
            className="badge ok"
            title="The session has not ended; new events appear here as they arrive"
          >
            in progress
          </span>
        )}
        {span ? (
          <span>
            Span{" "}
            {formatDuration(span.end.getTime() - span.start.getTime()) ||
              "0 ms"}
          </span>
        ) : null}
        <span data-testid="session-events">
          {formatCount(session.eventCount)} events
        </span>
        <span>
          {session.errorCount > 0 ? (
            <span className="badge danger">
              {session.errorCount} error{session.errorCount === 1 ? "" : "s"}
            </span>
          ) : (
            "no errors"
          )}
        </span>
        <span>
          Cost{" "}
          <strong
            data-testid="session-cost"
            title={
              session.priced
                ? formatUsdExact(session.costUsd)
                : "No priced events"
            }
          >
            {session.priced ? formatUsd(session.costUsd) : "—"}
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
        <span
          data-testid="session-tokens"
          title={`${formatCount(tokens.input)} input, ${formatCount(
            tokens.output,
          )} output, ${formatCount(tokens.cacheRead)} cache read, ${formatCount(
            tokens.cacheWrite,
          )} cache write`}
        >
          {formatCount(tokenTotal(tokens))} tokens
        </span>
        <span data-testid="session-flags">
          {session.flagCount > 0 ? (
            <span className="badge danger">
              {session.flagCount} flag{session.flagCount === 1 ? "" : "s"}
            </span>
          ) : (
            "no flags"
          )}
        </span>
        {grade ? (
          <span
            className={`badge ${gradeTone[grade.grade] ?? "muted"}`}
            title={grade.reasons.join("; ")}
            data-testid="session-grade"
          >
            grade {grade.grade}
          </span>
        ) : null}
        <span data-testid="session-chain">
          <ChainBadge
            project={props.project}
            sessionId={session.id}
            length={props.chainLength}
          />
        </span>
        <code className="muted">{session.externalId}</code>
      </div>
      {grade && grade.reasons.length > 0 ? (
        <div className="panel" aria-label="Grade reasons">
          <strong>Why grade {grade.grade}</strong>
          <ul
            data-testid="grade-reasons"
            style={{ margin: "0.25rem 0 0", paddingLeft: "1.25rem" }}
          >
            {grade.reasons.map((reason) => (
              <li key={reason}>{reason}</li>
            ))}
          </ul>
        </div>
      ) : null}
    </>
  );
}
