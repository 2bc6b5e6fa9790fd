import { sql, type SQL } from "drizzle-orm";
import { queryRows, type Database } from "@/db/client";

// How rare each question word is among the sections that may answer (its
// document frequency, for IDF). Counting a common word ("page", "use")
// visits thousands of rows, so counts are kept per project and set of
// servable documents while those documents are unchanged: a fingerprint
// of their ids, statuses, content hashes and deletions is read with every
// lookup (one small query), and any change starts the counts afresh.

/** A plain word counts fully; a compound identifier (next/jest) only when
 * the docs contain it, its parts carrying it otherwise; a joined pair
 * (searchparams) only adds to the sections that contain it. */
export type TermRole = "word" | "compound" | "joined";

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
}

interface Counts {
  fingerprint: string;
  sections: number;
  df: Map<string, number>;
}

/** Cached sets of counts; the oldest goes when there are more. */
const MAX_SETS = 64;
/** Words kept per set; a set that grows past it starts again. */
const MAX_WORDS = 20_000;
const cache = new Map<string, Counts>();

/** Stems each word with PostgreSQL and weighs it by how rare it is among
 * the servable sections. */
export async function weighTerms(
  db: Database,
  projectId: string,
  candidates: Array<{ word: string; role: TermRole }>,
  servable: { where: SQL; key: string },
): Promise<{ terms: Term[]; sections: number }> {
  if (candidates.length === 0) return { terms: [], sections: 0 };
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
    counts.df.size > MAX_WORDS
  ) {
    counts = { fingerprint, sections: -1, df: new Map() };
    cache.delete(key);
    cache.set(key, counts);
    if (cache.size > MAX_SETS) {
      cache.delete(cache.keys().next().value as string);
    }
  }
  const known = counts;

  // Rarity is measured over the sections that may answer: indexing an
  // older release beside the current one must not change which current
  // section answers, and a word only stale copies use is unknown.
  const missing = [
    ...new Set(stems.map((s) => s.query).filter((q) => q && !known.df.has(q))),
  ];
  if (missing.length > 0 || known.sections < 0) {
    const queries = missing.length
      ? sql.join(
          missing.map((q) => sql`(${q}::text)`),
          sql`, `,
        )
      : sql`(''::text)`;
    // The servable documents are hashed once (a materialized CTE) and
    // joined to each word's full-text matches, which the GIN index finds.
    const rows = await queryRows<{ q: string; df: number; sections: number }>(
      db,
      sql`with servable_documents as materialized (
            select d.id from context_documents d
             where d.project_id = ${projectId} and ${servable.where}
          )
          select w.q,
            case when w.q = '' then 0 else
              (select count(*)::int from context_sections s
                 join servable_documents sd on sd.id = s.document_id
                where s.project_id = ${projectId}
                  and s.search @@ w.q::tsquery) end as df,
            (select count(*)::int from context_sections s
               join servable_documents sd on sd.id = s.document_id
              where s.project_id = ${projectId}) as sections
          from (values ${queries}) as w(q)`,
    );
    for (const row of rows) {
      if (row.q) known.df.set(row.q, Number(row.df));
      known.sections = Number(row.sections);
    }
  }

  const count = known.sections;
  const terms: Term[] = [];
  const seen = new Set<string>();
  for (const stem of [...stems].sort((a, b) => a.idx - b.idx)) {
    // Stop words stem to nothing; "cache" and "caching" stem alike.
    if (!stem.query || seen.has(stem.query)) continue;
    seen.add(stem.query);
    const df = known.df.get(stem.query) ?? 0;
    const { role } = candidates[stem.idx];
    // A compound or joined form the docs never use says nothing.
    if (df === 0 && role !== "word") continue;
    terms.push({
      word: words[stem.idx],
      role,
      query: stem.query,
      df,
      idf: Math.log(1 + (count - df + 0.5) / (df + 0.5)),
      weight: 1,
    });
  }

  return { terms, sections: count };
}
