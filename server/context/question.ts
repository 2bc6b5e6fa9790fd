// Turns a natural-language question into the words worth searching for.
// Pure: the ranking SQL stems them and weighs each by how rare it is.

export interface QuestionTerms {
  /** Words and identifiers to search, lowercased, without duplicates. */
  words: string[];
  /** Adjacent plain words written together ("search params" gives
   * "searchparams"), since docs name things `searchParams`. */
  joined: string[];
  /** Identifiers as written (`connection()`, `next/jest`, `bodySizeLimit`)
   * that a good section contains literally. */
  identifiers: string[];
}

// Words that say how a question is asked, not what it is about. PostgreSQL's
// english configuration drops the common function words itself.
const askingWords = new Set([
  "want",
  "wants",
  "need",
  "needs",
  "way",
  "ways",
  "possible",
  "able",
  "please",
  "know",
  "tell",
  "try",
  "trying",
  "also",
  "really",
  "actually",
  "whats",
  "hows",
  "im",
  "dont",
  "doesnt",
  "cant",
  "instead",
  "something",
  "anything",
  "thing",
  "things",
  "stuff",
  "correct",
  "right",
  "proper",
  "properly",
  "best",
  "good",
  "okay",
  "ok",
  "e.g",
  "eg",
  "etc",
  "vs",
]);

const wrappers = /^[\s"'`“”‘’(\[{<,;:!?*]+|[\s"'`“”‘’)\]}>,;:!?*.]+$/g;

/** An identifier: calls, paths, dotted names, snake_case or camelCase. */
function looksLikeIdentifier(word: string): boolean {
  return (
    /\(\)$/.test(word) ||
    /[\w-]\/[\w[]/.test(word) ||
    /\w\.\w/.test(word) ||
    /[a-z]_[a-z]/i.test(word) ||
    /[a-z][A-Z]/.test(word)
  );
}

export function questionTerms(question: string): QuestionTerms {
  const words: string[] = [];
  const identifiers: string[] = [];
  const joined: string[] = [];
  let previousPlain: string | null = null;
  const seen = new Set<string>();
  const add = (word: string) => {
    const lower = word.toLowerCase();
    if (lower.length < 2 && !/\d/.test(lower)) return;
    if (askingWords.has(lower.replace(/'/g, "")) || seen.has(lower)) return;
    seen.add(lower);
    words.push(lower);
  };

  for (const raw of question.split(/[\s—–]+/)) {
    // "cookies()" keeps its parentheses; other wrapping punctuation goes.
    const call = /^[^\w]*([\w.$/-]+\(\))[^\w]*$/.exec(raw);
    const word = call ? call[1] : raw.replace(wrappers, "");
    if (!word) continue;
    if (looksLikeIdentifier(word)) {
      if (!identifiers.includes(word)) identifiers.push(word);
      const bare = word.replace(/\(\)$/, "");
      add(bare);
      // Parts too: the docs may write `nextUrl` where the question says
      // request.nextUrl, or next/jest where it says next/jest's config.
      for (const part of bare.split(/[./]+/)) if (part !== bare) add(part);
      previousPlain = null;
    } else {
      const parts = word.split(/[^\p{L}\p{N}_'-]+/u).filter(Boolean);
      for (const part of parts) add(part.replace(/^'+|'+$/g, ""));
      const plain = parts.length === 1 && /^[a-z]{3,}$/i.test(word);
      const lower = word.toLowerCase();
      if (plain && previousPlain) {
        const pair = previousPlain + lower;
        if (!joined.includes(pair)) joined.push(pair);
      }
      previousPlain = plain ? lower : null;
    }
  }

  return { words, identifiers, joined };
}

/** Words the question writes as names: capitalised other than at the
 * start of a sentence ("a Kafka topic"), capitalised with more capitals
 * inside ("GraphQL", not "basePath") or all capitals ("QUIC");
 * lowercased. A name that no document contains
 * is what the question is about (a product, a protocol), so the documents
 * cannot answer it however well they match the rest. */
export function namedWords(question: string): Set<string> {
  const names = new Set<string>();
  let sentenceStart = true;
  for (const raw of question.split(/\s+/)) {
    const word = raw.replace(wrappers, "");
    const startsSentence = sentenceStart;
    sentenceStart = /[.!?:]["')\]]*$/.test(raw);
    if (!/^\p{L}[\p{L}\p{N}]*$/u.test(word) || word.length < 3) continue;
    // "GraphQL" is a name; "basePath" is an identifier the docs define.
    const mixed =
      /^\p{Lu}.*\p{Ll}.*\p{Lu}/u.test(word) ||
      /^\p{Lu}.*\p{Lu}.*\p{Ll}/u.test(word);
    const capitals = !/\p{Ll}/u.test(word) && /\p{Lu}{3}/u.test(word);
    const capitalised = !startsSentence && /^\p{Lu}\p{Ll}+$/u.test(word);
    if (mixed || capitals || capitalised) names.add(word.toLowerCase());
  }

  return names;
}

/** Words that turn away from what follows: "not pages/api", "instead of
 * the pages router", "without the app dir", "I don't use pages". */
const negations = new Set([
  "not",
  "don't",
  "dont",
  "never",
  "no",
  "instead",
  "rather",
  "without",
  "except",
  "unlike",
  "non",
  "avoid",
  "avoiding",
]);
/** Words that may sit between a negation and what it turns away from.
 * Not "in": "what is not supported in the app router" asks about app. */
const negationFiller = new Set([
  "of",
  "than",
  "the",
  "a",
  "an",
  "my",
  "our",
  "any",
  "using",
  "use",
  "with",
  "from",
]);

/** Nouns that follow a folder name to say what it is ("pages router",
 * "app dir"). */
const folderNouns = new Set(["router", "dir", "directory", "folder"]);

/** The question's words, lowercased, for matching top-level folder names
 * ("app router" scopes to app/): those it names, those it names only to
 * turn away from ("create it in app, not pages/api" excludes pages), and
 * the nouns that only followed a word it turned away from ("router" in
 * "not the pages router"), which say nothing about what it asks. */
export function folderWords(question: string): {
  named: string[];
  excluded: string[];
  excludedNouns: string[];
} {
  const tokens = question
    .toLowerCase()
    .replace(/[\u2018\u2019]/g, "'")
    .split(/[^\p{L}\p{N}_'-]+/u)
    .map((t) => t.replace(/^'+|'+$/g, ""))
    .filter(Boolean);
  const named = new Set<string>();
  const excluded = new Set<string>();
  const nounsAfter = { named: new Set<string>(), excluded: new Set<string>() };
  let negated = false;
  // Whether the word before was named or turned away from, for the noun
  // after it ("pages router").
  let previous: "named" | "excluded" | null = null;
  for (const token of tokens) {
    if (negations.has(token)) {
      negated = true;
      previous = null;
    } else if (negated && negationFiller.has(token)) {
      continue;
    } else if (previous && folderNouns.has(token)) {
      nounsAfter[previous].add(token);
    } else {
      previous = negated ? "excluded" : "named";
      (negated ? excluded : named).add(token);
      negated = false;
    }
  }
  for (const word of named) excluded.delete(word);
  const excludedNouns = [...nounsAfter.excluded].filter(
    (noun) => !nounsAfter.named.has(noun) && !named.has(noun),
  );

  return { named: [...named], excluded: [...excluded], excludedNouns };
}
