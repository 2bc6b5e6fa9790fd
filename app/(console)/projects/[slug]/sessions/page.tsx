import Link from "next/link";
import { formatCount, formatUsd, formatUtc } from "@/components/charts/format";
import { requirePageProject } from "@/server/api/page-auth";
import { listSessions } from "@/server/observability/sessions";

export default async function SessionsPage(props: {
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await props.params;
  const { db, actor, project } = await requirePageProject(slug);
  const sessions = await listSessions(db, actor, {
    project: project.slug,
    limit: 200,
  });

  return (
    <>
      <h1>Sessions</h1>
      <p className="muted">
        What each agent reported, newest activity first (last 200 sessions).
      </p>
      {sessions.length === 0 ? (
        <p className="muted">
          No sessions yet. Agents report through Claude Code hooks, OTLP or
          native event batches.
        </p>
      ) : (
        <table aria-label="Sessions">
          <thead>
            <tr>
              <th>Session</th>
              <th>Agent</th>
              <th>Source</th>
              <th>Started</th>
              <th>Events</th>
              <th>Errors</th>
              <th>Flags</th>
              <th>Cost</th>
            </tr>
          </thead>
          <tbody>
            {sessions.map((s) => (
              <tr key={s.id}>
                <td>
                  <Link href={`/projects/${project.slug}/sessions/${s.id}`}>
                    {s.title ?? s.externalId}
                  </Link>
                  {s.title ? (
                    <div className="muted">
                      <code>{s.externalId}</code>
                    </div>
                  ) : null}
                </td>
                <td>{s.agentName}</td>
                <td>
                  <span className="badge muted">{s.source}</span>
                </td>
                <td>{formatUtc(s.startedAt)}</td>
                <td>{formatCount(s.eventCount)}</td>
                <td>
                  {s.errorCount > 0 ? (
                    <span className="badge danger">{s.errorCount}</span>
                  ) : (
                    "0"
                  )}
                </td>
                <td>
                  {s.flagCount > 0 ? (
                    <span
                      className="badge danger"
                      title="Red flags raised on this session's events"
                    >
                      {s.flagCount}
                    </span>
                  ) : (
                    "0"
                  )}
                </td>
                <td>
                  {formatUsd(s.costUsd)}
                  {s.unpricedCount > 0 ? (
                    <>
                      {" "}
                      <span
                        className="badge warn"
                        title="Events for models missing from the price table"
                      >
                        + {s.unpricedCount} unpriced
                      </span>
                    </>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
