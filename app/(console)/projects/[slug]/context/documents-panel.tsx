"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { formatCount, formatUtc } from "@/components/charts/format";
import { useTRPC } from "@/components/trpc";
import { documentCount } from "./labels";
import { StatusBadge, StatusOverride } from "./status-badge";

// The indexed documents, a page at a time, filtered on the server by
// status, source, version and path, with each status's reason.

const PAGE_SIZE = 50;
const statuses = ["canonical", "stale", "duplicate", "superseded"] as const;
type Status = (typeof statuses)[number];

export function DocumentsPanel(props: {
  project: string;
  canOverride: boolean;
}) {
  const trpc = useTRPC();
  const [status, setStatus] = useState<Status | "">("");
  const [source, setSource] = useState("");
  // "*" stands for every version; "" is the unversioned documents.
  const [version, setVersion] = useState("*");
  const [path, setPath] = useState("");
  const [offset, setOffset] = useState(0);
  const page = useQuery({
    ...trpc.context.browse.queryOptions({
      project: props.project,
      status: status || undefined,
      source: source || undefined,
      version: version === "*" ? undefined : version,
      path: path.trim() || undefined,
      offset,
      limit: PAGE_SIZE,
    }),
    placeholderData: keepPreviousData,
  });
  const data = page.data;
  const versions =
    data?.sources.find((s) => s.source === source)?.versions ?? [];
  // Every document under the other filters: live ones by status, and
  // deleted notes, which have no status that counts.
  const unfiltered =
    Object.values(data?.statusCounts ?? {}).reduce((a, b) => a + b, 0) +
    (data?.deleted ?? 0);
  // Any filter change starts again at the first page.
  const filter =
    <T,>(set: (value: T) => void) =>
    (value: T) => {
      set(value);
      setOffset(0);
    };
  const nothingIndexed = data && data.sources.length === 0;

  return (
    <section className="panel" aria-labelledby="documents-heading">
      <h2 id="documents-heading">Documents</h2>
      {page.isPending && <p className="muted">Loading documents…</p>}
      {page.error && <p className="error">{page.error.message}</p>}
      {nothingIndexed && (
        <p className="muted">
          Nothing indexed yet. Upload markdown above or run{" "}
          <code>flotilla context index DIR --project {props.project}</code>.
        </p>
      )}
      {data && !nothingIndexed && (
        <>
          <p aria-label="Documents per status" className="row">
            {statuses.map((s) => (
              <button
                key={s}
                type="button"
                className="secondary"
                aria-pressed={status === s}
                onClick={() => filter(setStatus)(status === s ? "" : s)}
              >
                <StatusBadge status={s} /> {data.statusCounts[s] ?? 0}
              </button>
            ))}
            {data.deleted > 0 && (
              <span className="badge danger" title="Deleted notes">
                deleted {data.deleted}
              </span>
            )}
            <span className="muted" aria-label="Documents shown">
              {status
                ? documentCount(data.total, unfiltered)
                : documentCount(data.total)}
            </span>
          </p>
          <div className="row" style={{ alignItems: "end" }}>
            <label>
              Source
              <select
                aria-label="Source"
                value={source}
                onChange={(e) => {
                  filter(setSource)(e.target.value);
                  setVersion("*");
                }}
              >
                <option value="">All sources</option>
                {data.sources.map((s) => (
                  <option key={s.source} value={s.source}>
                    {s.source} ({s.documents})
                  </option>
                ))}
              </select>
            </label>
            <label>
              Version
              <select
                aria-label="Version"
                value={version}
                disabled={!source}
                onChange={(e) => filter(setVersion)(e.target.value)}
              >
                <option value="*">All versions</option>
                {versions.map((v) => (
                  <option key={v} value={v}>
                    {v || "(unversioned)"}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Path or title
              <input
                aria-label="Path or title"
                value={path}
                onChange={(e) => filter(setPath)(e.target.value)}
                placeholder="e.g. caching"
              />
            </label>
          </div>
          <table>
            <thead>
              <tr>
                <th>Path</th>
                <th>Status</th>
                <th>Reason</th>
                <th>Last change</th>
                <th>Sections</th>
                <th>Tokens</th>
                {props.canOverride && <th>Override</th>}
              </tr>
            </thead>
            <tbody>
              {data.documents.length === 0 && (
                <tr>
                  <td colSpan={7} className="muted">
                    No documents match these filters.
                  </td>
                </tr>
              )}
              {data.documents.map((doc) => (
                <tr key={doc.id}>
                  <td>
                    <Link href={`/projects/${props.project}/context/${doc.id}`}>
                      <code>{doc.path}</code>
                    </Link>
                    {doc.source !== "default" && (
                      <span className="muted">
                        {" "}
                        ({doc.source}
                        {doc.version ? ` ${doc.version}` : ""})
                      </span>
                    )}
                    <div className="muted">{doc.title}</div>
                  </td>
                  <td>
                    <StatusBadge
                      status={doc.status}
                      reason={doc.statusReason}
                    />
                    {doc.deletedAt && (
                      <span className="badge danger">deleted</span>
                    )}
                  </td>
                  <td className="muted">{doc.statusReason}</td>
                  <td className="muted">
                    {doc.modifiedAt
                      ? formatUtc(doc.modifiedAt).slice(0, 10)
                      : ""}
                    {doc.modifiedBy ? ` by ${doc.modifiedBy}` : ""}
                    {doc.modifiedSource ? ` (${doc.modifiedSource})` : ""}
                  </td>
                  <td>{doc.sections}</td>
                  <td>{formatCount(doc.tokens)}</td>
                  {props.canOverride && (
                    <td>
                      <details>
                        <summary>
                          {doc.statusOverride ? "Pinned" : "Override"}
                        </summary>
                        <StatusOverride
                          project={props.project}
                          documentId={doc.id}
                          status={doc.status}
                          overridden={doc.statusOverride !== null}
                        />
                      </details>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          <div className="row" aria-label="Pages">
            <button
              type="button"
              className="secondary"
              disabled={offset === 0}
              onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}
            >
              Previous
            </button>
            <span className="muted">
              {data.total === 0
                ? documentCount(0)
                : `${offset + 1}–${offset + data.documents.length} of ${data.total}`}
            </span>
            <button
              type="button"
              className="secondary"
              disabled={offset + PAGE_SIZE >= data.total}
              onClick={() => setOffset(offset + PAGE_SIZE)}
            >
              Next
            </button>
          </div>
        </>
      )}
    </section>
  );
}
