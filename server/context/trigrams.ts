// Trigram similarity as PostgreSQL's pg_trgm computes it, in process: a
// ranking feature compares the question with each candidate's heading,
// and doing it here saves the database building the question's trigrams
// again for every row.
//
// Each word is lowercased and padded with two spaces in front and one
// behind; its trigrams are the three-character windows of that. A word is
// a run of what the database's character classes call letters and digits:
// Unicode's alphabetic characters (which include the vowel signs of
// Devanagari or Thai, Arabic and Hebrew vowel points, and letter-like
// numbers such as "Ⅻ") and decimal digits; "²", an emoji or a combining
// accent is neither. Lowercasing goes letter by letter, to one letter: "İ"
// gives "i" and a final "Σ" gives "σ", as in the database, where the
// language rules of toLowerCase() would give "i̇" and "ς". Similarity is
// the share of distinct trigrams the two strings have in common: shared /
// (first + second − shared), in single precision as pg_trgm rounds it.

const WORD = /[\p{Alphabetic}\p{Nd}]+/gu;

/** A character's lower case, one character as the database gives it. */
function lowerLetter(char: string): string {
  const lower = char.toLowerCase();

  return lower.length === char.length
    ? lower
    : String.fromCodePoint(lower.codePointAt(0)!);
}

/** The distinct trigrams of a string's words. */
export function trigrams(text: string): Set<string> {
  const found = new Set<string>();
  for (const [word] of text.matchAll(WORD)) {
    const chars = [" ", " ", ...Array.from(word, lowerLetter), " "];
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
