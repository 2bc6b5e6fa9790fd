import Link from "next/link";
import {
  formatCount,
  formatDuration,
  formatUsd,
  formatUsdExact,
  formatUtc,
} from "@/components/charts/format";
import { ChainBadge } from "@/components/session-timeline/chain-badge";
import { SessionTimeline } from "@/components/session-timeline/timeline";
import { requirePageProject } from "@/server/api/page-auth";
import { getSession } from "@/server/observability/sessions";

// One session: its totals, grade and hash-chain verdict, and its timeline.
// The first events come with the page so rows show at once; the timeline
// reads the rest a page at a time as the reader scrolls. The chain check
// reads every event, so the browser asks for it once the page is up.

const FIRST_PAGE = 100;

const gradeTone: Record<string, string> = {
  A: "ok",
  B: "ok",
  C: "warn",
  D: "danger",
  F: "danger",
};

export default async function SessionPage(props: {
  params: Promise<{ slug: string; id: string }>;
}) {
  const { slug, id } = await props.params;
  const { db, actor, project } = await requirePageProject(slug);
  const detail = await getSession(db, actor, {
    project: project.slug,
    sessionId: decodeURIComponent(id),
    limit: FIRST_PAGE,
  });
  const { session, span, grade } = detail;

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
        {span ? (
          <span>
            Span{" "}
            {formatDuration(span.end.getTime() - span.start.getTime()) ||
              "0 ms"}
          </span>
        ) : null}
        <span>{formatCount(session.eventCount)} events</span>
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
              session.costUsd === null
                ? undefined
                : formatUsdExact(session.costUsd)
            }
          >
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
          <ChainBadge project={project.slug} sessionId={session.id} />
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

      <SessionTimeline
        project={project.slug}
        sessionId={session.id}
        firstPage={{
          events: detail.events,
          nextCursor: detail.nextCursor,
          total: session.eventCount,
        }}
        span={span}
      />
    </>
  );
}
