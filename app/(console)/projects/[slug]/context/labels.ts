import { formatCount } from "@/components/charts/format";

// Wording the context pages share, kept apart from the components so it
// can be tested without a browser.

/** "1 document", "12 documents"; "3 of 12 documents" while a filter
 * narrows what is shown. */
export function documentCount(shown: number, of?: number): string {
  const noun = (n: number) => (n === 1 ? "document" : "documents");

  return of === undefined || of === shown
    ? `${formatCount(shown)} ${noun(shown)}`
    : `${formatCount(shown)} of ${formatCount(of)} ${noun(of)}`;
}

interface DocumentPointer {
  id: string;
  path: string;
  title: string;
}

/** When a restore was refused because the note's topic has another
 * canonical document now, that document, so the console can say which
 * one it is and link to it; null for any other failure. */
export function restoreBlockedBy(error: unknown): {
  topic: string | null;
  canonical: DocumentPointer;
} | null {
  const data = (error as { data?: unknown } | null)?.data as
    { domainCode?: unknown; details?: unknown } | null | undefined;
  if (data?.domainCode !== "conflict") return null;
  const details = data.details as
    | { topic?: unknown; canonical?: Partial<DocumentPointer> }
    | null
    | undefined;
  const canonical = details?.canonical;
  if (
    typeof canonical?.id !== "string" ||
    typeof canonical.path !== "string" ||
    typeof canonical.title !== "string"
  ) {
    return null;
  }

  return {
    topic: typeof details?.topic === "string" ? details.topic : null,
    canonical: {
      id: canonical.id,
      path: canonical.path,
      title: canonical.title,
    },
  };
}

interface FileProblem {
  path: string;
  problem: string;
  statusRule?: true;
}

/** A problem an upload met, for the list under the upload form. */
export interface UploadProblem extends FileProblem {
  skipped: boolean;
}

/** The problems of an upload sent in batches, in order: each batch's
 * skipped files and warnings about reading its files, then the status
 * rules' warnings of the last batch alone. Those are worked out for the
 * whole release after every batch, so an earlier batch's may be out of
 * date (a superseded_by naming a file of a later batch). */
export function uploadProblems(
  batches: Array<{ skipped: FileProblem[]; warnings: FileProblem[] }>,
): UploadProblem[] {
  const last = batches.at(-1);

  return [
    ...batches.flatMap((batch) => [
      ...batch.skipped.map((f) => ({ ...f, skipped: true })),
      ...batch.warnings
        .filter((f) => !f.statusRule)
        .map((f) => ({ ...f, skipped: false })),
    ]),
    ...(last?.warnings ?? [])
      .filter((f) => f.statusRule)
      .map((f) => ({ ...f, skipped: false })),
  ];
}

/** Why an upload batch was refused, in words that name the files: a
 * detail on `files.3.content` names the batch's fourth file. */
export function uploadFailure(error: unknown, batchPaths: string[]): string {
  const failure = error as {
    message?: string;
    data?: { details?: unknown } | null;
  } | null;
  const details = Array.isArray(failure?.data?.details)
    ? (failure.data.details as { path?: unknown; message?: unknown }[])
    : [];
  const lines = details.flatMap((detail) => {
    if (typeof detail.message !== "string") return [];
    const path = typeof detail.path === "string" ? detail.path : "";
    const file = /^files\.(\d+)(?:\.|$)/.exec(path);
    const name = file ? batchPaths[Number(file[1])] : undefined;

    return [name ? `${name}: ${detail.message}` : `${path}: ${detail.message}`];
  });
  if (lines.length > 0) return lines.join("; ");

  return failure?.message || "The upload failed";
}
