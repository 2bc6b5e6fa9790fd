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
                <td>{formatTime(row.createdAt)}</td>
                <td>
                  {row.actorLabel}{" "}
                  <span className="badge muted">{row.actorType}</span>
                </td>
                <td>
                  <code>{row.action}</code>
                </td>
                <td>{row.targetType ?? ""}</td>
                <td>
                  {row.details ? (
                    <code>{JSON.stringify(row.details)}</code>
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
