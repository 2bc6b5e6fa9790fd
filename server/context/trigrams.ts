// Trigram similarity as PostgreSQL's pg_trgm computes it, in process: a
// ranking feature compares the question with each candidate's heading,
// and doing it here saves the database building the question's trigrams
// again for every row.
//
// Each word (a run of letters and decimal digits; "²" is neither) is lowercased and padded with
// two spaces in front and one behind; its trigrams are the three-character
// windows of that. Similarity is the share of distinct trigrams the two
// strings have in common: shared / (first + second − shared), in single
// precision as pg_trgm rounds it.

const WORD = /[\p{L}\p{Nd}]+/gu;

/** The distinct trigrams of a string's words. */
export function trigrams(text: string): Set<string> {
  const found = new Set<string>();
  for (const [word] of text.matchAll(WORD)) {
    const chars = [" ", " ", ...word.toLowerCase(), " "];
    for (let i = 0; i + 3 <= chars.length; i++) {
      found.add(chars.slice(i, i + 3).join(""));
    }
  }

  return found;
}

/** pg_trgm's similarity(a, b), 0..1; 0 when either has no words. */
export function trigramSimilarity(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  for (const trigram of a) if (b.has(trigram)) shared++;

  return Math.fround(shared / (a.size + b.size - shared));
}
