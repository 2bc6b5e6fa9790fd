"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { formError } from "@/components/forms";
import { useTRPC } from "@/components/trpc";

// The context page: ask a question as an agent would, see what is indexed,
// upload markdown.

const UPLOAD_BATCH = 100;
const DOCUMENTS_SHOWN = 50;
const markdownFile = /\.(md|mdx)$/i;

// React passes these through to the input; TypeScript's DOM types lack them.
const folderPicker = { webkitdirectory: "", directory: "" } as Record<
  string,
  string
>;

/** The path a file is stored under: relative to the chosen folder. */
function uploadPath(file: File): string {
  const relative = file.webkitRelativePath;
  if (!relative) return file.name;

  return relative.split("/").slice(1).join("/") || file.name;
}

export function ContextPanel(props: { project: string; canUpload: boolean }) {
  return (
    <>
      <SearchPanel project={props.project} />
      {props.canUpload && <UploadPanel project={props.project} />}
      <DocumentsPanel project={props.project} canOverride={props.canUpload} />
    </>
  );
}

function SearchPanel(props: { project: string }) {
  const trpc = useTRPC();
  const search = useMutation(trpc.context.search.mutationOptions());
  const answer = search.data;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const q = String(form.get("q") ?? "").trim();
    const includeStale = form.get("includeStale") === "on";
    if (q) search.mutate({ project: props.project, q, includeStale });
  }

  return (
    <section className="panel" aria-labelledby="search-heading">
      <h2 id="search-heading">Ask the docs</h2>
      <form className="row" onSubmit={submit}>
        <label style={{ flex: 1 }}>
          Question
          <input name="q" maxLength={1000} required />
        </label>
        <label>
          <input
            type="checkbox"
            name="includeStale"
            style={{ width: "auto" }}
          />{" "}
          Include stale
        </label>
        <button type="submit" disabled={search.isPending}>
          Search
        </button>
      </form>
      {search.error && <p className="error">{formError(search.error)}</p>}
      {answer && !answer.answered && (
        <div aria-label="Answer">
          <h3>No answer</h3>
          <p className="muted">{answer.reason}</p>
          <Alternatives
            label="Nearest sections:"
            pointers={answer.alternatives}
          />
        </div>
      )}
      {answer?.answered && (
        <div aria-label="Answer">
          <h3>{answer.headingPath}</h3>
          <div className="row">
            <code>{`${answer.path}:${answer.line}`}</code>
            <StatusBadge status={answer.status} reason={answer.statusReason} />
            {answer.statusReason && (
              <span className="muted">{answer.statusReason}</span>
            )}
            <span className="muted">
              {answer.tokens} tokens served of {answer.documentTokens} in the
              file
            </span>
          </div>
          <pre style={{ whiteSpace: "pre-wrap" }}>{answer.text}</pre>
          <Alternatives label="Also relevant:" pointers={answer.alternatives} />
        </div>
      )}
    </section>
  );
}

/** Pointers to other sections (breadcrumb and path:line), if any. */
function Alternatives(props: {
  label: string;
  pointers: { path: string; line: number; headingPath: string }[];
}) {
  if (props.pointers.length === 0) return null;

  return (
    <>
      <p className="muted">{props.label}</p>
      <ul>
        {props.pointers.map((alt) => (
          <li key={`${alt.path}:${alt.line}`}>
            {alt.headingPath} <code>{`${alt.path}:${alt.line}`}</code>
          </li>
        ))}
      </ul>
    </>
  );
}

const statusBadge: Record<string, string> = {
  canonical: "ok",
  stale: "warn",
  duplicate: "muted",
  superseded: "danger",
};

function StatusBadge(props: { status: string; reason: string | null }) {
  return (
    <span
      className={`badge ${statusBadge[props.status] ?? "warn"}`}
      title={props.reason ?? undefined}
    >
      {props.status}
    </span>
  );
}

/** Pin canonical, mark stale, or hand the document back to the rules. */
function StatusOverride(props: {
  project: string;
  documentId: string;
  status: string;
  overridden: boolean;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const setStatus = useMutation(
    trpc.context.setStatus.mutationOptions({
      onSuccess: () =>
        queryClient.invalidateQueries({
          queryKey: trpc.context.documents.queryKey({ project: props.project }),
        }),
    }),
  );
  const apply = (status: "canonical" | "stale" | "auto") =>
    setStatus.mutate({
      project: props.project,
      documentId: props.documentId,
      status,
    });

  return (
    <span className="row">
      {props.status !== "canonical" && (
        <button
          type="button"
          className="secondary"
          disabled={setStatus.isPending}
          onClick={() => apply("canonical")}
        >
          Pin canonical
        </button>
      )}
      {props.status !== "stale" && (
        <button
          type="button"
          className="secondary"
          disabled={setStatus.isPending}
          onClick={() => apply("stale")}
        >
          Mark stale
        </button>
      )}
      {props.overridden && (
        <button
          type="button"
          className="secondary"
          disabled={setStatus.isPending}
          onClick={() => apply("auto")}
        >
          Use rules
        </button>
      )}
      {setStatus.error && (
        <span className="error">{formError(setStatus.error)}</span>
      )}
    </span>
  );
}

function DocumentsPanel(props: { project: string; canOverride: boolean }) {
  const trpc = useTRPC();
  const documents = useQuery(
    trpc.context.documents.queryOptions({ project: props.project }),
  );
  const [filter, setFilter] = useState("");
  const [statusFilter, setStatusFilter] = useState("");
  const [showAll, setShowAll] = useState(false);
  const rows = documents.data ?? [];
  const sections = rows.reduce((sum, d) => sum + d.sections, 0);
  const tokens = rows.reduce((sum, d) => sum + d.tokens, 0);
  const statusCounts = new Map<string, number>();
  for (const doc of rows) {
    statusCounts.set(doc.status, (statusCounts.get(doc.status) ?? 0) + 1);
  }
  const needle = filter.trim().toLowerCase();
  const matching = rows.filter(
    (doc) =>
      (!statusFilter || doc.status === statusFilter) &&
      (!needle ||
        doc.path.toLowerCase().includes(needle) ||
        doc.title.toLowerCase().includes(needle)),
  );
  const shown = showAll ? matching : matching.slice(0, DOCUMENTS_SHOWN);

  return (
    <section className="panel" aria-labelledby="documents-heading">
      <h2 id="documents-heading">Documents</h2>
      {documents.isPending && <p className="muted">Loading documents…</p>}
      {documents.error && <p className="error">{documents.error.message}</p>}
      {documents.data?.length === 0 && (
        <p className="muted">
          Nothing indexed yet. Upload markdown above or run{" "}
          <code>flotilla context index DIR --project {props.project}</code>.
        </p>
      )}
      {rows.length > 0 && (
        <>
          <div className="row">
            <p className="muted">
              {rows.length} documents, {sections} sections,{" "}
              {tokens.toLocaleString("en-US")} tokens
            </p>
            <p aria-label="Documents per status" className="row">
              {[...statusCounts.entries()].map(([status, n]) => (
                <button
                  key={status}
                  type="button"
                  className="secondary"
                  aria-pressed={statusFilter === status}
                  onClick={() =>
                    setStatusFilter(statusFilter === status ? "" : status)
                  }
                >
                  <StatusBadge status={status} reason={null} /> {n}
                </button>
              ))}
            </p>
            <label className="row">
              Filter
              <input
                value={filter}
                onChange={(event) => setFilter(event.target.value)}
                placeholder="path or title"
              />
            </label>
          </div>
          <table>
            <thead>
              <tr>
                <th>Path</th>
                <th>Title</th>
                <th>Status</th>
                <th>Reason</th>
                <th>Sections</th>
                <th>Tokens</th>
                {props.canOverride && <th>Override</th>}
              </tr>
            </thead>
            <tbody>
              {shown.map((doc) => (
                <tr key={doc.id}>
                  <td>
                    <code>{doc.path}</code>
                    {doc.source !== "default" && (
                      <span className="muted">
                        {" "}
                        ({doc.source}
                        {doc.version ? ` ${doc.version}` : ""})
                      </span>
                    )}
                  </td>
                  <td>{doc.title}</td>
                  <td>
                    <StatusBadge
                      status={doc.status}
                      reason={doc.statusReason}
                    />
                  </td>
                  <td className="muted">{doc.statusReason}</td>
                  <td>{doc.sections}</td>
                  <td>{doc.tokens}</td>
                  {props.canOverride && (
                    <td>
                      <StatusOverride
                        project={props.project}
                        documentId={doc.id}
                        status={doc.status}
                        overridden={doc.statusOverride !== null}
                      />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          {shown.length < matching.length && (
            <p className="muted">
              Showing {shown.length} of {matching.length}.{" "}
              <button
                type="button"
                className="secondary"
                onClick={() => setShowAll(true)}
              >
                Show all
              </button>
            </p>
          )}
        </>
      )}
    </section>
  );
}

function UploadPanel(props: { project: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const upload = useMutation(trpc.context.upload.mutationOptions());
  const [folder, setFolder] = useState(false);
  const [outcome, setOutcome] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const input = formElement.elements.namedItem("files") as HTMLInputElement;
    const files = [...(input.files ?? [])].filter((f) =>
      markdownFile.test(f.name),
    );
    if (files.length === 0) {
      setOutcome("Choose at least one .md or .mdx file");

      return;
    }
    setOutcome(null);
    const totals = { indexed: 0, unchanged: 0, sections: 0 };
    // Batches keep each request small when a whole folder is uploaded.
    for (let i = 0; i < files.length; i += UPLOAD_BATCH) {
      const batch = await Promise.all(
        files.slice(i, i + UPLOAD_BATCH).map(async (file) => ({
          path: uploadPath(file),
          content: await file.text(),
        })),
      );
      const summary = await upload
        .mutateAsync({ project: props.project, files: batch })
        .catch(() => null);
      if (!summary) return;
      totals.indexed += summary.indexed;
      totals.unchanged += summary.unchanged;
      totals.sections += summary.sections;
    }
    setOutcome(
      `Indexed ${totals.indexed} files (${totals.sections} sections); ` +
        `${totals.unchanged} unchanged`,
    );
    formElement.reset();
    await queryClient.invalidateQueries({
      queryKey: trpc.context.documents.queryKey({ project: props.project }),
    });
  }

  return (
    <section className="panel" aria-labelledby="upload-heading">
      <h2 id="upload-heading">Upload markdown</h2>
      <form className="stack" onSubmit={submit}>
        <label>
          <input
            type="checkbox"
            checked={folder}
            onChange={(e) => setFolder(e.target.checked)}
            style={{ width: "auto" }}
          />{" "}
          Upload a whole folder
        </label>
        <label>
          Markdown files
          <input
            key={folder ? "folder" : "files"}
            type="file"
            name="files"
            accept=".md,.mdx"
            multiple
            {...(folder ? folderPicker : {})}
          />
        </label>
        <button type="submit" disabled={upload.isPending}>
          Upload
        </button>
        {upload.error && <p className="error">{formError(upload.error)}</p>}
        {outcome && <p role="status">{outcome}</p>}
      </form>
    </section>
  );
}
