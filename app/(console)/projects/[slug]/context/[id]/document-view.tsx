"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { formatCount, formatUtc } from "@/components/charts/format";
import { formError } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import { restoreBlockedBy } from "../labels";
import { StatusBadge, StatusOverride } from "../status-badge";

// One document: where it comes from, its status and why, the documents
// linked to it by status, its sections, and for a document an agent wrote,
// its versions (and restore, once deleted).

const AGENT_NOTES_SOURCE = "agent-notes";

interface LinkedDocument {
  id: string;
  source: string;
  version: string;
  path: string;
  status: string;
  statusReason: string | null;
  deletedAt?: Date | string | null;
}

function DocumentLink(props: { project: string; doc: LinkedDocument }) {
  return (
    <>
      <Link href={`/projects/${props.project}/context/${props.doc.id}`}>
        <code>{props.doc.path}</code>
      </Link>
      {(props.doc.source !== "default" || props.doc.version) && (
        <span className="muted">
          {" "}
          ({props.doc.source}
          {props.doc.version ? ` ${props.doc.version}` : ""})
        </span>
      )}
    </>
  );
}

const Deleted = () => <span className="badge danger">deleted</span>;

/** Why a restore failed: when the topic has another canonical document
 * now, which one, linked, and what to do; else the error's message. */
function RestoreError(props: { project: string; error: unknown }) {
  const blocked = restoreBlockedBy(props.error);
  if (!blocked) return <span className="error">{formError(props.error)}</span>;

  return (
    <span className="error" role="alert">
      Not restored:{" "}
      <Link href={`/projects/${props.project}/context/${blocked.canonical.id}`}>
        <code>{blocked.canonical.path}</code>
      </Link>{" "}
      (&ldquo;{blocked.canonical.title}&rdquo;) is the canonical document of
      topic {blocked.topic ?? "this topic"} now, and a topic has only one. To
      bring this one back, delete or supersede that document first.
    </span>
  );
}

const modifiedFrom: Record<string, string> = {
  git: "last git commit",
  file: "file time",
  api: "written through the API or console",
};

export function DocumentView(props: {
  project: string;
  documentId: string;
  canOperate: boolean;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const key = { project: props.project, documentId: props.documentId };
  const document = useQuery(trpc.context.document.queryOptions(key));
  const restore = useMutation(
    trpc.context.restore.mutationOptions({
      // A restore can move which document of the topic others point at,
      // and the list's deleted count.
      onSuccess: () =>
        Promise.all([
          queryClient.invalidateQueries({
            queryKey: trpc.context.document.pathKey(),
          }),
          queryClient.invalidateQueries({
            queryKey: trpc.context.browse.pathKey(),
          }),
        ]),
    }),
  );
  const doc = document.data;
  if (document.error) return <p className="error">{document.error.message}</p>;
  if (!doc) return <p className="muted">Loading document…</p>;
  const isNote = doc.source === AGENT_NOTES_SOURCE;

  return (
    <>
      <p>
        <Link href={`/projects/${props.project}/context`}>← Context</Link>
      </p>
      <h1>{doc.title}</h1>
      <section className="panel" aria-label="Document">
        <div className="row">
          <code>{doc.path}</code>
          <StatusBadge status={doc.status} reason={doc.statusReason} />
          {doc.deletedAt && (
            <span className="badge danger" aria-label="Deleted">
              deleted {formatUtc(doc.deletedAt)}
            </span>
          )}
          {doc.statusOverride && (
            <span className="badge muted">pinned by an operator</span>
          )}
        </div>
        {doc.statusReason && (
          <p aria-label="Status reason">{doc.statusReason}</p>
        )}
        <dl className="details">
          <div>
            <dt>Source</dt>
            <dd>
              {doc.source}
              {doc.version ? ` ${doc.version}` : " (unversioned)"}
            </dd>
          </div>
          {doc.declaredVersion && (
            <div>
              <dt>Front-matter version</dt>
              <dd>{doc.declaredVersion}</dd>
            </div>
          )}
          {isNote && (
            <div>
              <dt>Topic</dt>
              <dd>
                {doc.topic} ({doc.kind})
              </dd>
            </div>
          )}
          <div>
            <dt>Last change</dt>
            <dd>
              {doc.modifiedAt ? formatUtc(doc.modifiedAt) : "unknown"}
              {doc.modifiedBy ? ` by ${doc.modifiedBy}` : ""}
              {doc.modifiedSource
                ? ` (${modifiedFrom[doc.modifiedSource] ?? doc.modifiedSource})`
                : ""}
            </dd>
          </div>
          <div>
            <dt>Indexed</dt>
            <dd>{formatUtc(doc.indexedAt)}</dd>
          </div>
          <div>
            <dt>Size</dt>
            <dd>
              {formatCount(doc.tokens)} tokens, {formatCount(doc.lines)} lines,{" "}
              {doc.sections.length} sections
            </dd>
          </div>
        </dl>
        {doc.canonical && (
          <p>
            {doc.status === "superseded" ? "Superseded by " : "Copy of "}
            <DocumentLink project={props.project} doc={doc.canonical} />{" "}
            <StatusBadge status={doc.canonical.status} />
            {doc.canonical.deletedAt && <Deleted />}
          </p>
        )}
        {props.canOperate && !isNote && (
          <StatusOverride
            project={props.project}
            documentId={doc.id}
            status={doc.status}
            overridden={doc.statusOverride !== null}
          />
        )}
        {props.canOperate && isNote && doc.deletedAt && (
          <p className="row">
            <button
              type="button"
              disabled={restore.isPending}
              onClick={() => restore.mutate(key)}
            >
              Restore
            </button>
            {restore.error && (
              <RestoreError project={props.project} error={restore.error} />
            )}
          </p>
        )}
        {doc.frontMatter && Object.keys(doc.frontMatter).length > 0 && (
          <details>
            <summary>Front matter</summary>
            <pre>{JSON.stringify(doc.frontMatter, null, 2)}</pre>
          </details>
        )}
      </section>

      {doc.copies.length > 0 && (
        <section className="panel" aria-labelledby="copies-heading">
          <h2 id="copies-heading">Stale copies and duplicates of this</h2>
          <table>
            <thead>
              <tr>
                <th>Document</th>
                <th>Status</th>
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {doc.copies.map((copy) => (
                <tr key={copy.id}>
                  <td>
                    <DocumentLink project={props.project} doc={copy} />
                  </td>
                  <td>
                    <StatusBadge status={copy.status} />
                    {copy.deletedAt && <Deleted />}
                  </td>
                  <td className="muted">{copy.statusReason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}

      <section className="panel" aria-labelledby="sections-heading">
        <h2 id="sections-heading">Sections</h2>
        <table>
          <thead>
            <tr>
              <th>Line</th>
              <th>Heading path</th>
              <th>Tokens</th>
            </tr>
          </thead>
          <tbody>
            {doc.sections.map((section) => (
              <tr key={section.id}>
                <td>{section.line}</td>
                <td>
                  <details>
                    <summary>
                      {section.headingPath}
                      {section.parts > 1 && (
                        <span className="muted">
                          {" "}
                          (part {section.part} of {section.parts})
                        </span>
                      )}
                    </summary>
                    <pre style={{ whiteSpace: "pre-wrap" }}>{section.text}</pre>
                  </details>
                </td>
                <td>{formatCount(section.tokens)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      {isNote && (
        <section className="panel" aria-labelledby="versions-heading">
          <h2 id="versions-heading">Versions</h2>
          <table>
            <thead>
              <tr>
                <th>#</th>
                <th>Change</th>
                <th>By</th>
                <th>When</th>
                <th>Tokens</th>
              </tr>
            </thead>
            <tbody>
              {doc.versions.map((version) => (
                <tr key={version.number}>
                  <td>{version.number}</td>
                  <td>
                    <details>
                      <summary>
                        {version.change}
                        {version.heading ? `: ${version.heading}` : ""}
                      </summary>
                      <pre style={{ whiteSpace: "pre-wrap" }}>
                        {version.text}
                      </pre>
                    </details>
                  </td>
                  <td>{version.author}</td>
                  <td>{formatUtc(version.createdAt)}</td>
                  <td>{formatCount(version.tokens)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {doc.topicDocuments.length > 1 && (
            <>
              <h3>Documents of topic {doc.topic}</h3>
              <ul>
                {doc.topicDocuments.map((other) => (
                  <li key={other.id}>
                    {other.id === doc.id ? (
                      <code>{other.path}</code>
                    ) : (
                      <Link
                        href={`/projects/${props.project}/context/${other.id}`}
                      >
                        <code>{other.path}</code>
                      </Link>
                    )}{" "}
                    version {other.version}{" "}
                    <StatusBadge status={other.status} />
                    {other.deleted && <Deleted />}
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
      )}
    </>
  );
}
