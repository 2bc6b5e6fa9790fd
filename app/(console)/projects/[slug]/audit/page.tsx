import { formatTime } from "@/components/forms";
import { requirePageProject } from "@/server/api/page-auth";
import { listAudit } from "@/server/identity/audit";

export default async function AuditPage(props: {
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await props.params;
  const { db, actor } = await requirePageProject(slug);
  const rows = await listAudit(db, actor, { project: slug, limit: 200 });

  return (
    <>
      <h1>Audit log</h1>
      <p className="muted">
        Every operator action in this project, newest first (last 200).
      </p>
      {rows.length === 0 ? (
        <p className="muted">Nothing has happened yet.</p>
      ) : (
        <table aria-label="Audit log">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>Action</th>
              <th>Target</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.id}>
                <td style={{ whiteSpace: "nowrap" }}>
                  {formatTime(row.createdAt)}
                </td>
                <td>
                  {row.actorLabel}{" "}
                  <span className="badge muted">{row.actorType}</span>
                </td>
                <td>
                  <code>{row.action}</code>
                </td>
                <td>
                  {row.targetType ?? ""}
                  {row.targetId && (
                    <>
                      {" "}
                      <code title={row.targetId}>
                        {row.targetId.slice(0, 8)}
                      </code>
                    </>
                  )}
                </td>
                <td>{row.details && <AuditDetails details={row.details} />}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function detailText(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;

  return JSON.stringify(value);
}

/** An entry's details as "key: value" lines, long values shortened. */
function AuditDetails(props: { details: Record<string, unknown> }) {
  return (
    <dl className="details">
      {Object.entries(props.details).map(([key, value]) => {
        const text = detailText(value);

        return (
          <div key={key}>
            <dt>{key}</dt>
            <dd title={text.length > 80 ? text : undefined}>
              {text.length > 80 ? `${text.slice(0, 80)}…` : text}
            </dd>
          </div>
        );
      })}
    </dl>
  );
}
