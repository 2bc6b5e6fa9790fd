import { sql, type SQL } from "drizzle-orm";
import { queryRows, type Database } from "@/db/client";
import { topFolders } from "./document-kinds";

// How rare each question word is among the sections that may answer (its
// document frequency, for IDF), and their top folders: which there are,
// and which mostly mirror a larger one. The frequencies of every word of those
// sections are read in one pass (unnest of the search vectors) and kept
// per project and set of servable documents while those documents are
// unchanged: a fingerprint of their ids, statuses, content hashes and
// deletions is read with every lookup (one small query), and any change
// starts the counts afresh. One pass costs about as much as counting two
// common words one by one, and every later question is then counted for
// free. A word that stems to several lexemes (next.js, a compound) is
// counted on its own, as a full-text match.

/** A plain word counts fully; a compound identifier (next/jest) only when
 * the docs contain it, its parts carrying it otherwise; a joined pair
 * (searchparams) only adds to the sections that contain it; a related
 * heading word (a lexeme the question's words are linked to, see
 * ./term-links.ts) only adds to the sections that contain it. */
export type TermRole = "word" | "compound" | "joined" | "related";

export interface Term {
  word: string;
  role: TermRole;
  query: string;
  df: number;
  idf: number;
  /** 1, or the trigram similarity of a corrected word to what was asked. */
  weight: number;
  /** The misspelled word a correction stands in for. */
  corrects?: string;
  /** The question's lexemes a related heading word was reached from. */
  relatedTo?: string[];
}

interface Counts {
  fingerprint: string;
  sections: number;
  /** Top folders, lowercased, and those that mostly mirror a larger one
   * (./document-kinds.ts). */
  folders: string[];
  shadowed: string[];
  /** Sections per lexeme, for every lexeme of the servable sections. */
  lexemes: Map<string, number>;
  /** Sections per multi-lexeme query, counted when first asked. */
  queries: Map<string, number>;
}

/** Cached sets of counts; the oldest goes when there are more. */
const MAX_SETS = 16;
/** Multi-lexeme queries kept per set; a set that grows past it starts
 * again. */
const MAX_QUERIES = 5_000;
const cache = new Map<string, Counts>();

/** How rare a word in `df` of `sections` sections is (BM25's IDF). */
const inverseFrequency = (sections: number, df: number) =>
  Math.log(1 + (sections - df + 0.5) / (df + 0.5));

/** The lexeme a one-word tsquery ('cach') stands for, else null; one
 * with an escaped backslash is left to a full-text count. */
export function singleLexeme(query: string): string | null {
  const match = /^'((?:[^'\\]|'')+)'$/.exec(query);

  return match ? match[1].replaceAll("''", "'") : null;
}

async function lexemeCounts(
  db: Database,
  projectId: string,
  servable: SQL,
): Promise<{ sections: number; lexemes: Map<string, number> }> {
  const rows = await queryRows<{ lexeme: string | null; df: number }>(
    db,
    sql`with servable_sections as materialized (
          select s.search from context_sections s
           where s.project_id = ${projectId}
             and s.document_id in (select d.id from context_documents d
               where d.project_id = ${projectId} and ${servable})
        )
        select u.lexeme, count(*)::int as df
          from servable_sections s
          cross join lateral unnest(s.search) as u
         group by u.lexeme
        union all
        select null, count(*)::int from servable_sections`,
  );
  const lexemes = new Map<string, number>();
  let sections = 0;
  for (const row of rows) {
    if (row.lexeme === null) sections = Number(row.df);
    else lexemes.set(row.lexeme, Number(row.df));
  }

  return { sections, lexemes };
}

/** Stems each word with PostgreSQL and weighs it by how rare it is among
 * the servable sections. */
export async function weighTerms(
  db: Database,
  projectId: string,
  candidates: Array<{ word: string; role: TermRole }>,
  servable: { where: SQL; key: string },
): Promise<{
  terms: Term[];
  sections: number;
  folders: string[];
  shadowed: string[];
  /** Names the state of the servable documents the counts are of. */
  fingerprint: string;
}> {
  if (candidates.length === 0) {
    return {
      terms: [],
      sections: 0,
      folders: [],
      shadowed: [],
      fingerprint: "",
    };
  }
  const words = candidates.map((c) => c.word);
  const values = sql.join(
    words.map((word, i) => sql`(${i}::int, ${word}::text)`),
    sql`, `,
  );
  const stems = await queryRows<{
    idx: number;
    query: string;
    fingerprint: string;
  }>(
    db,
    sql`select w.idx, plainto_tsquery('english', w.word)::text as query,
               (select count(*)::text || ':' ||
                       coalesce(sum(hashtext(d.id::text || d.status ||
                         d.content_hash || coalesce(d.deleted_at::text, ''))),
                         0)::text
                  from context_documents d
                 where d.project_id = ${projectId} and ${servable.where})
                 as fingerprint
          from (values ${values}) as w(idx, word)`,
  );
  const fingerprint = stems[0]?.fingerprint ?? "";
  const key = `${projectId}\u0000${servable.key}`;
  let counts = cache.get(key);
  if (
    !counts ||
    counts.fingerprint !== fingerprint ||
    counts.queries.size > MAX_QUERIES
  ) {
    // Rarity is measured over the sections that may answer: indexing an
    // older release beside the current one must not change which current
    // section answers, and a word only stale copies use is unknown.
    const [{ sections, lexemes }, { folders, shadowed }] = await Promise.all([
      lexemeCounts(db, projectId, servable.where),
      topFolders(db, projectId, servable.where),
    ]);
    counts = {
      fingerprint,
      sections,
      lexemes,
      folders,
      shadowed,
      queries: new Map(),
    };
    cache.delete(key);
    cache.set(key, counts);
    if (cache.size > MAX_SETS) {
      cache.delete(cache.keys().next().value as string);
    }
  }
  const known = counts;
  const frequency = (query: string) => {
    const lexeme = singleLexeme(query);

    return lexeme === null
      ? known.queries.get(query)
      : (known.lexemes.get(lexeme) ?? 0);
  };

  const missing = [
    ...new Set(
      stems.map((s) => s.query).filter((q) => q && frequency(q) === undefined),
    ),
  ];
  if (missing.length > 0) {
    const queries = sql.join(
      missing.map((q) => sql`(${q}::text)`),
      sql`, `,
    );
    // The servable documents are hashed once (a materialized CTE) and
    // joined to each query's full-text matches, which the GIN index finds.
    const rows = await queryRows<{ q: string; df: number }>(
      db,
      sql`with servable_documents as materialized (
            select d.id from context_documents d
             where d.project_id = ${projectId} and ${servable.where}
          )
          select w.q,
            (select count(*)::int from context_sections s
               join servable_documents sd on sd.id = s.document_id
              where s.project_id = ${projectId}
                and s.search @@ w.q::tsquery) as df
          from (values ${queries}) as w(q)`,
    );
    for (const row of rows) known.queries.set(row.q, Number(row.df));
  }

  const count = known.sections;
  const terms: Term[] = [];
  const seen = new Set<string>();
  for (const stem of [...stems].sort((a, b) => a.idx - b.idx)) {
    // Stop words stem to nothing; "cache" and "caching" stem alike.
    if (!stem.query || seen.has(stem.query)) continue;
    seen.add(stem.query);
    const df = frequency(stem.query) ?? 0;
    const { role } = candidates[stem.idx];
    // A compound or joined form the docs never use says nothing.
    if (df === 0 && role !== "word") continue;
    terms.push({
      word: words[stem.idx],
      role,
      query: stem.query,
      df,
      idf: inverseFrequency(count, df),
      weight: 1,
    });
  }

  return {
    terms,
    sections: count,
    folders: known.folders,
    shadowed: known.shadowed,
    fingerprint,
  };
}

/** Terms for lexemes already stemmed (heading words the question's words
 * are linked to), weighed from the counts the last weighTerms call for
 * the same servable documents read; no query. Empty when there are none
 * (the counts were dropped in between). */
export function weighLexemes(
  projectId: string,
  lexemes: string[],
  servable: { key: string },
): Term[] {
  const counts = cache.get(`${projectId}\u0000${servable.key}`);
  if (!counts) return [];

  return lexemes.flatMap((lexeme) => {
    const df = counts.lexemes.get(lexeme) ?? 0;
    if (df === 0 || !/^[a-z0-9]+$/.test(lexeme)) return [];

    return [
      {
        word: lexeme,
        role: "related" as const,
        query: `'${lexeme}'`,
        df,
        idf: inverseFrequency(counts.sections, df),
        weight: 1,
      },
    ];
  });
}

/** Whether two words are one edit apart: a letter added, dropped,
 * changed, or two neighbours swapped. */
export function oneEditApart(a: string, b: string): boolean {
  if (a === b || Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true;
    return (
      a[i] === b[i + 1] &&
      a[i + 1] === b[i] &&
      a.slice(i + 2) === b.slice(i + 2)
    );
  }

  return a.length > b.length
    ? a.slice(i + 1) === b.slice(i)
    : a.slice(i) === b.slice(i + 1);
}

/** The commonest lexeme of the servable sections one edit from a
 * misspelled one ("exlud" for exclude written "exlude"), as a term
 * standing in for it; from the counts the last weighTerms call for the
 * same servable documents read, so no query. Lexemes shorter than five
 * letters are left alone: one edit turns too many short words into
 * others. */
export function nearestLexeme(
  projectId: string,
  lexeme: string,
  servable: { key: string },
): Term | null {
  const counts = cache.get(`${projectId}\u0000${servable.key}`);
  if (!counts || lexeme.length < 5 || !/^[a-z]+$/.test(lexeme)) return null;
  let best: { lexeme: string; df: number } | null = null;
  for (const [candidate, df] of counts.lexemes) {
    if (best && df <= best.df) continue;
    if (oneEditApart(lexeme, candidate) && /^[a-z]+$/.test(candidate)) {
      best = { lexeme: candidate, df };
    }
  }
  if (!best) return null;

  return {
    word: best.lexeme,
    role: "word",
    query: `'${best.lexeme}'`,
    df: best.df,
    idf: inverseFrequency(counts.sections, best.df),
    weight: 1,
  };
}
