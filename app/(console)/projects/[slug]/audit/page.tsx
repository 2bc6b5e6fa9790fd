import Link from "next/link";
import { formatTime } from "@/components/forms";
import { requirePageProject } from "@/server/api/page-auth";
import { DomainError } from "@/server/errors";
import { auditFiltersFromQuery, auditPage } from "@/server/identity/audit";
import { shortTargetId } from "./target-id";

const PAGE_SIZE = 100;

type Query = Record<string, string | string[] | undefined>;

function first(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? "";
}

/** The page's URL with some parameters changed (empty ones dropped). */
function withQuery(base: string, query: Query, changes: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...query, ...changes })) {
    const text = first(value);
    if (text !== "") params.set(key, text);
  }
  const search = params.toString();

  return search ? `${base}?${search}` : base;
}

export default async function AuditPage(props: {
  params: Promise<{ slug: string }>;
  searchParams: Promise<Query>;
}) {
  const { slug } = await props.params;
  const query = await props.searchParams;
  const { db, actor, project } = await requirePageProject(slug);
  const base = `/projects/${project.slug}/audit`;
  const filters = auditFiltersFromQuery(query);
  const beforeText = first(query.before);
  const before = /^\d+$/.test(beforeText) ? Number(beforeText) : undefined;
  let page: Awaited<ReturnType<typeof auditPage>> | null = null;
  let problem: string | null = null;
  try {
    page = await auditPage(db, actor, {
      project: project.slug,
      ...filters,
      before,
      limit: PAGE_SIZE,
    });
  } catch (error) {
    // A malformed filter in the URL is shown, not a crash.
    if (!(error instanceof DomainError) || error.code !== "invalid_input") {
      throw error;
    }
    problem = error.message;
  }
  const filtered = Object.values(filters).some((value) => value !== undefined);
  const exportQuery = { ...query, before: undefined, format: undefined };

  return (
    <>
      <h1>Audit log</h1>
      <p className="muted">
        Every operator action in this project and every guardrail decision that
        refused an agent, newest first.
      </p>
      <form
        method="get"
        action={base}
        className="row"
        aria-label="Filter the audit log"
        style={{ alignItems: "flex-end", marginBottom: "1rem" }}
      >
        <label>
          Actor
          <input
            name="actor"
            defaultValue={first(query.actor)}
            placeholder="email, agent or id"
          />
        </label>
        <label>
          Actor type
          <select name="type" defaultValue={first(query.type)}>
            <option value="">any</option>
            <option value="user">user</option>
            <option value="agent">agent</option>
            <option value="cli">cli</option>
          </select>
        </label>
        <label>
          Action starts with
          <input
            name="action"
            defaultValue={first(query.action)}
            placeholder="goal. or guardrail.refused"
          />
        </label>
        <label>
          Target type
          <input
            name="target"
            defaultValue={first(query.target)}
            placeholder="goal, task, agent"
          />
        </label>
        <label>
          From (UTC)
          <input name="from" type="date" defaultValue={first(query.from)} />
        </label>
        <label>
          To (UTC, inclusive)
          <input name="to" type="date" defaultValue={first(query.to)} />
        </label>
        <button type="submit">Filter</button>
        {filtered && <Link href={base}>Clear</Link>}
      </form>
      <p className="row">
        <span className="muted">Export what the filters match:</span>
        <a href={withQuery(`${base}/export`, exportQuery, { format: "csv" })}>
          CSV
        </a>
        <a href={withQuery(`${base}/export`, exportQuery, { format: "json" })}>
          JSON
        </a>
      </p>
      {problem && <p className="error">{problem}</p>}
      {page && page.rows.length === 0 && (
        <p className="muted">
          {filtered || before
            ? "No entries match these filters."
            : "Nothing has happened yet."}
        </p>
      )}
      {page && page.rows.length > 0 && (
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
            {page.rows.map((row) => (
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
                  {row.action.startsWith("guardrail.refused") && (
                    <>
                      {" "}
                      <span className="badge danger">refused</span>
                    </>
                  )}
                </td>
                <td>
                  {row.targetType ?? ""}
                  {row.targetId && (
                    <>
                      {" "}
                      <code title={row.targetId}>
                        {shortTargetId(row.targetId)}
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
      <nav
        className="row"
        aria-label="Audit pages"
        style={{ marginTop: "1rem" }}
      >
        {before !== undefined && (
          <Link href={withQuery(base, query, { before: undefined })}>
            ← Newest
          </Link>
        )}
        {page?.nextBefore && (
          <Link
            href={withQuery(base, query, { before: String(page.nextBefore) })}
          >
            Older →
          </Link>
        )}
      </nav>
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
