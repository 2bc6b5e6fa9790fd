import { countTokens as countO200k } from "gpt-tokenizer/encoding/o200k_base";

// Token counts use the o200k encoding (GPT-4o and later). Other models
// tokenise differently, but one fixed real tokenizer keeps served and
// baseline counts comparable with each other.

// Documents may quote special-token text such as "<|endoftext|>"; count it
// as ordinary text instead of refusing the document.
const asPlainText = { disallowedSpecial: new Set<string>() };

/** Runs of whitespace or of non-whitespace longer than this many UTF-8
 * bytes are counted in pieces of about this size. */
export const longRunBytes = 512;

// The tokenizer merges byte pairs within a run of characters in time
// quadratic in the run's length, so one spaceless 100 kB line would block
// the process for seconds to minutes. Words, code and the padding of wide
// markdown tables stay under the bound, so their counts are exact; a
// longer run (base64, a long rule of "=", emoji, unspaced CJK text) is
// counted close to, not exactly at, its true count.

const ascii = 0x80;
const whitespaceChar = /\s/;

function isWhitespace(code: number, text: string, at: number): boolean {
  if (code < ascii) return code === 32 || (code >= 9 && code <= 13);

  return whitespaceChar.test(text[at]);
}

/** UTF-8 bytes of one UTF-16 unit; a surrogate pair's two units take 4. */
function utf8Bytes(code: number): number {
  if (code < ascii) return 1;
  if (code < 0x800 || (code >= 0xd800 && code <= 0xdfff)) return 2;

  return 3;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** The runs of one kind (whitespace or not) longer than `longRunBytes`,
 * as [start, end) character offsets. */
function longRuns(text: string): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  let start = 0;
  let bytes = 0;
  let spaced = isWhitespace(text.charCodeAt(0), text, 0);
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at);
    const kind = isWhitespace(code, text, at);
    if (kind !== spaced) {
      if (bytes > longRunBytes) runs.push([start, at]);
      start = at;
      bytes = 0;
      spaced = kind;
    }
    bytes += utf8Bytes(code);
  }
  if (bytes > longRunBytes) runs.push([start, text.length]);

  return runs;
}

/** Counts a long run in pieces of about `longRunBytes`, never cutting a
 * character that takes two UTF-16 units in half. */
function countLongRun(text: string, start: number, end: number): number {
  let count = 0;
  let from = start;
  while (from < end) {
    let to = from;
    let bytes = 0;
    while (to < end && bytes < longRunBytes) {
      bytes += utf8Bytes(text.charCodeAt(to));
      to++;
    }
    if (to < end && isLowSurrogate(text.charCodeAt(to))) to++;
    count += countO200k(text.slice(from, to), asPlainText);
    from = to;
  }

  return count;
}

export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  const runs = longRuns(text);
  if (runs.length === 0) return countO200k(text, asPlainText);

  let count = 0;
  let from = 0;
  for (const [start, end] of runs) {
    if (start > from) count += countO200k(text.slice(from, start), asPlainText);
    count += countLongRun(text, start, end);
    from = end;
  }
  if (from < text.length) count += countO200k(text.slice(from), asPlainText);

  return count;
}
