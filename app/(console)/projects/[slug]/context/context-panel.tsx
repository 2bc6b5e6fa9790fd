"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { formatCount } from "@/components/charts/format";
import { SavingsChart } from "@/components/charts/savings-chart";
import { formError } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import { describeReadAs } from "@/server/context/read-as";
import { DocumentsPanel } from "./documents-panel";
import { uploadFailure, uploadProblems, type UploadProblem } from "./labels";
import { StatusBadge } from "./status-badge";

// The context page: ask a question as an agent would, see what lookups
// saved, what is indexed and with which status, upload markdown, and set
// the age after which unchanged documents are flagged.

const UPLOAD_BATCH = 100;
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

export function ContextPanel(props: {
  project: string;
  canUpload: boolean;
  canAdmin: boolean;
}) {
  return (
    <>
      <SearchPanel project={props.project} />
      <SavingsChart project={props.project} />
      {props.canUpload && <UploadPanel project={props.project} />}
      <AgeSettingPanel project={props.project} canEdit={props.canAdmin} />
      <DocumentsPanel project={props.project} canOverride={props.canUpload} />
    </>
  );
}

/** The project's sources, for pickers. */
function useSources(project: string) {
  const trpc = useTRPC();
  const page = useQuery(
    trpc.context.browse.queryOptions({ project, limit: 1 }),
  );

  return page.data?.sources ?? [];
}

type Tier = "pointer" | "section" | "document";

function SearchPanel(props: { project: string }) {
  const trpc = useTRPC();
  const sources = useSources(props.project);
  const search = useMutation(trpc.context.search.mutationOptions());
  const answer = search.data;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const q = String(form.get("q") ?? "").trim();
    const source = String(form.get("source") ?? "") || undefined;
    const tier = String(form.get("tier") ?? "section") as Tier;
    const includeStale = form.get("includeStale") === "on";
    if (q) {
      search.mutate({ project: props.project, q, source, tier, includeStale });
    }
  }

  return (
    <section className="panel" aria-labelledby="search-heading">
      <h2 id="search-heading">Ask the docs</h2>
      <form className="row" onSubmit={submit} style={{ alignItems: "end" }}>
        <label style={{ flex: 1, minWidth: "16rem" }}>
          Question
          <input name="q" maxLength={1000} required />
        </label>
        <label>
          Source
          <select name="source" defaultValue="">
            <option value="">All sources</option>
            {sources.map((s) => (
              <option key={s.source} value={s.source}>
                {s.source}
              </option>
            ))}
          </select>
        </label>
        <label>
          Tier
          <select name="tier" defaultValue="section">
            <option value="pointer">Pointer</option>
            <option value="section">Section</option>
            <option value="document">Document</option>
          </select>
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
          <ReadAsNote readAs={answer.readAs} />
          <Alternatives
            project={props.project}
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
          </div>
          <ReadAsNote readAs={answer.readAs} />
          <p className="muted" aria-label="Token counts">
            {formatCount(answer.servedTokens)} tokens served ({answer.tier});
            section {formatCount(answer.sectionTokens)}, whole document{" "}
            {formatCount(answer.documentTokens)}, top-3 documents{" "}
            {formatCount(answer.top3Tokens)}
          </p>
          {answer.text && (
            <pre style={{ whiteSpace: "pre-wrap" }}>{answer.text}</pre>
          )}
          <Alternatives
            project={props.project}
            label="Also relevant:"
            pointers={answer.alternatives}
          />
        </div>
      )}
    </section>
  );
}

/** Which of the question's words were read as other words, if any. */
function ReadAsNote(props: { readAs: Parameters<typeof describeReadAs>[0] }) {
  const line = describeReadAs(props.readAs);

  return line ? (
    <p className="muted" aria-label="Read as">
      {line}
    </p>
  ) : null;
}

/** Pointers to other sections: status, breadcrumb and path:line. */
function Alternatives(props: {
  project: string;
  label: string;
  pointers: {
    path: string;
    line: number;
    headingPath: string;
    status: string;
    source: string;
    version: string;
  }[];
}) {
  if (props.pointers.length === 0) return null;

  return (
    <>
      <p className="muted">{props.label}</p>
      <ul aria-label="Alternatives">
        {props.pointers.map((alt) => (
          <li key={`${alt.source}:${alt.version}:${alt.path}:${alt.line}`}>
            <StatusBadge status={alt.status} /> {alt.headingPath}{" "}
            <code>{`${alt.path}:${alt.line}`}</code>
            {alt.source !== "default" && (
              <span className="muted">
                {" "}
                ({alt.source}
                {alt.version ? ` ${alt.version}` : ""})
              </span>
            )}
          </li>
        ))}
      </ul>
    </>
  );
}

/** The age rule's setting: admins change it, everyone sees it. */
function AgeSettingPanel(props: { project: string; canEdit: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const settings = useQuery(
    trpc.context.settings.queryOptions({ project: props.project }),
  );
  const [draft, setDraft] = useState<string | null>(null);
  const save = useMutation(
    trpc.context.setSettings.mutationOptions({
      onSuccess: async () => {
        setDraft(null);
        await Promise.all([
          queryClient.invalidateQueries({
            queryKey: trpc.context.settings.queryKey({
              project: props.project,
            }),
          }),
          queryClient.invalidateQueries({
            queryKey: trpc.context.browse.pathKey(),
          }),
        ]);
      },
    }),
  );
  const current = settings.data?.staleAfterDays ?? null;
  const value = draft ?? (current === null ? "" : String(current));

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const days = value.trim() === "" ? null : Number(value);
    save.mutate({ project: props.project, staleAfterDays: days });
  }

  return (
    <section className="panel" aria-labelledby="age-heading">
      <h2 id="age-heading">Age rule</h2>
      <p className="muted">
        A document unchanged for longer than this (its last git commit, or its
        file time outside git) is marked stale, as a weak signal: only when no
        operator pin, front matter, version or duplicate decided its status.{" "}
        {current === null
          ? "Not set: age flags nothing."
          : `Now: ${current} days.`}
      </p>
      {props.canEdit && (
        <form className="row" onSubmit={submit} style={{ alignItems: "end" }}>
          <label>
            Stale after (days)
            <input
              type="number"
              min={1}
              max={36500}
              step={1}
              placeholder="off"
              value={value}
              onChange={(e) => setDraft(e.target.value)}
            />
          </label>
          <button type="submit" disabled={save.isPending || draft === null}>
            Save
          </button>
          {current !== null && (
            <button
              type="button"
              className="secondary"
              disabled={save.isPending}
              onClick={() =>
                save.mutate({ project: props.project, staleAfterDays: null })
              }
            >
              Turn off
            </button>
          )}
          {save.error && <span className="error">{formError(save.error)}</span>}
          {save.data && (
            <span role="status" className="muted">
              Saved; statuses now{" "}
              {Object.entries(save.data.statuses)
                .map(([status, n]) => `${n} ${status}`)
                .join(", ") || "unchanged"}
            </span>
          )}
        </form>
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
  const [failure, setFailure] = useState<string | null>(null);
  const [problems, setProblems] = useState<UploadProblem[]>([]);
  const [progress, setProgress] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const source = String(form.get("source") ?? "").trim() || undefined;
    const version = String(form.get("version") ?? "").trim() || undefined;
    const input = formElement.elements.namedItem("files") as HTMLInputElement;
    const files = [...(input.files ?? [])].filter((f) =>
      markdownFile.test(f.name),
    );
    if (files.length === 0) {
      setOutcome("Choose at least one .md or .mdx file");

      return;
    }
    setOutcome(null);
    setFailure(null);
    setProblems([]);
    const totals = { indexed: 0, unchanged: 0, sections: 0 };
    const summaries: Parameters<typeof uploadProblems>[0] = [];
    // Batches keep each request small when a whole folder is uploaded. A
    // batch that fails stops the upload; what the batches before it
    // indexed is kept, and said.
    let failedAt: number | null = null;
    for (let i = 0; i < files.length; i += UPLOAD_BATCH) {
      setProgress(`Indexing ${i} of ${files.length} files…`);
      const batch = await Promise.all(
        files.slice(i, i + UPLOAD_BATCH).map(async (file) => ({
          path: uploadPath(file),
          content: await file.text(),
        })),
      );
      const summary = await upload
        .mutateAsync({ project: props.project, source, version, files: batch })
        .catch((error: unknown) => {
          setFailure(
            uploadFailure(
              error,
              batch.map((file) => file.path),
            ),
          );

          return null;
        });
      if (!summary) {
        failedAt = i;
        break;
      }
      totals.indexed += summary.indexed;
      totals.unchanged += summary.unchanged;
      totals.sections += summary.sections;
      summaries.push(summary);
    }
    const found = uploadProblems(summaries);
    setProgress(null);
    const skipped = found.filter((f) => f.skipped).length;
    const done =
      `Indexed ${totals.indexed} files (${totals.sections} sections); ` +
      `${totals.unchanged} unchanged` +
      (skipped ? `; ${skipped} skipped` : "");
    setProblems(found);
    if (failedAt !== null) {
      // Nothing from the failed batch on was indexed; uploading the same
      // files again skips the ones already in.
      if (failedAt > 0) {
        setOutcome(
          `${done}. The upload stopped at file ${failedAt + 1} of ` +
            `${files.length} (${uploadPath(files[failedAt])}); the files ` +
            `from there on were not indexed. Upload again to finish: ` +
            `unchanged files are skipped.`,
        );
      }
    } else {
      setOutcome(done);
      // Only the chosen files are cleared: the next upload most likely
      // goes to the same source and version.
      input.value = "";
    }
    await queryClient.invalidateQueries({
      queryKey: trpc.context.browse.pathKey(),
    });
  }

  return (
    <section className="panel" aria-labelledby="upload-heading">
      <h2 id="upload-heading">Upload markdown</h2>
      <form className="stack" onSubmit={submit}>
        <div className="row">
          <label>
            Source
            <input name="source" placeholder="default" maxLength={100} />
          </label>
          <label>
            Version
            <input name="version" placeholder="unversioned" maxLength={50} />
          </label>
        </div>
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
        {progress && <p role="status">{progress}</p>}
        {failure && <p className="error">{failure}</p>}
        {outcome && <p role="status">{outcome}</p>}
        {problems.length > 0 && (
          <ul aria-label="Files skipped or indexed with warnings">
            {problems.map((f) => (
              <li key={`${f.skipped}:${f.path}:${f.problem}`}>
                <strong>{f.skipped ? "Skipped" : "Warning"}</strong>{" "}
                <code>{f.path}</code>: {f.problem}
              </li>
            ))}
          </ul>
        )}
      </form>
    </section>
  );
}
