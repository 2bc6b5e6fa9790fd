import type { ReadAs } from "./answer";

// How a lookup read the question's words, in one line for a person: the
// playground and the CLI show it beside the answer, so a synonym or a
// spelling correction that changed what was found is never silent.

/** 'Read "typeface" as "font" (synonym), "exlude" as "exclud…" (spelling)';
 * null when every word was read as written. */
export function describeReadAs(readAs: ReadAs[] | undefined): string | null {
  if (!readAs || readAs.length === 0) return null;

  return `Read ${readAs
    .map(({ word, as, why }) => `"${word}" as "${as}" (${why})`)
    .join(", ")}`;
}
