import { sql } from "drizzle-orm";
import { queryRows, type Database } from "@/db/client";

// Words the corpus relates. A question often says what a section is about
// in other words than its heading ("password" for a section headed
// "Tainting an object reference", "icon" for "favicon"); the bodies under
// a heading keep using the words people ask in. After each index run the
// links of a source are rebuilt from its canonical sections: for every
// heading word (`term`), the body words (`related`) that turn up under
// headings with that word far more often than elsewhere. Strength is
// normalised pointwise mutual information (0..1); a link needs two
// sections behind it, and a heading word keeps its strongest links only.

/** Links kept per heading word. */
const LINKS_PER_TERM = 20;
/** Sections a link needs behind it. */
const MIN_SECTIONS = 2;

/** Rebuilds the links of one source of a project in one statement;
 * returns how many were stored. */
export async function rebuildTermLinks(
  db: Database,
  projectId: string,
  source: string,
): Promise<number> {
  const links = await db.transaction(async (tx) => {
    await tx.execute(
      sql`delete from context_term_links
           where project_id = ${projectId} and source = ${source}`,
    );
    // Plain words only (letters and digits, three or more, not a number):
    // the english configuration has dropped the stop words already.
    const [row] = await queryRows<{ links: number }>(
      tx,
      sql`with sections as materialized (
            select s.id, s.heading, s.search
              from context_sections s
              join context_documents d on d.id = s.document_id
             where s.project_id = ${projectId}
               and d.project_id = ${projectId}
               and d.source = ${source}
               and d.status = 'canonical'
               and d.deleted_at is null
          ),
          total as (select count(*)::float8 as n from sections),
          heads as materialized (
            select distinct s.id, h.lexeme as term
              from sections s
              cross join lateral unnest(to_tsvector('english', s.heading)) h
             where h.lexeme ~ '^[a-z0-9]{3,}$' and h.lexeme !~ '^[0-9]+$'
          ),
          bodies as materialized (
            select s.id, b.lexeme as related
              from sections s
              cross join lateral unnest(s.search) b
             where 'B' = any(b.weights)
               and b.lexeme ~ '^[a-z0-9]{3,}$' and b.lexeme !~ '^[0-9]+$'
          ),
          term_df as (
            select term, count(*)::float8 as n from heads group by term
          ),
          related_df as (
            select related, count(*)::float8 as n from bodies group by related
          ),
          pairs as (
            select h.term, b.related, count(*)::float8 as n
              from heads h
              join bodies b on b.id = h.id and b.related <> h.term
             group by h.term, b.related
            having count(*) >= ${MIN_SECTIONS}
          ),
          scored as (
            select p.term, p.related, p.n,
                   case when p.n >= total.n then 0
                        else greatest(0, ln(p.n * total.n / (t.n * r.n))
                          / -ln(p.n / total.n)) end as weight
              from pairs p
              cross join total
              join term_df t on t.term = p.term
              join related_df r on r.related = p.related
          ),
          ranked as (
            select *, row_number() over (partition by term
                     order by weight desc, n desc, related) as place
              from scored
             where weight > 0
          ),
          stored as (
            insert into context_term_links
                   (project_id, source, term, related, weight, sections)
            select ${projectId}, ${source}, term, related, weight, n::int
              from ranked
             where place <= ${LINKS_PER_TERM}
            returning 1
          )
          select count(*)::int as links from stored`,
    );

    return Number(row?.links ?? 0);
  });
  // Fresh planner statistics (embedded PGlite has no autovacuum): without
  // them lookups by related word scan the primary key instead.
  await db.execute(sql`analyze context_term_links`);

  return links;
}

/** A heading word a question's words point at, and how strongly: the sum
 * of the links' strengths from the question's words. */
export interface RelatedTerm {
  term: string;
  strength: number;
  /** The question's lexemes behind it. */
  from: string[];
}

/** Heading words the given lexemes (a question's words) are linked to,
 * strongest first; the lexemes themselves are left out. One indexed
 * query (by related lexeme). */
export async function relatedTerms(
  db: Database,
  projectId: string,
  lexemes: string[],
  source?: string,
): Promise<RelatedTerm[]> {
  if (lexemes.length === 0) return [];
  const list = sql`array[${sql.join(
    lexemes.map((l) => sql`${l}`),
    sql`, `,
  )}]::text[]`;
  // A link seen in several sources counts once, at its strongest.
  const rows = await queryRows<{
    term: string;
    related: string;
    weight: number;
  }>(
    db,
    sql`select term, related, max(weight)::float8 as weight
          from context_term_links
         where project_id = ${projectId}
           and related = any(${list})
           and not (term = any(${list}))
           ${source === undefined ? sql`` : sql`and source = ${source}`}
         group by term, related`,
  );
  const byTerm = new Map<string, RelatedTerm>();
  for (const row of rows) {
    const entry = byTerm.get(row.term) ?? {
      term: row.term,
      strength: 0,
      from: [],
    };
    entry.strength += Number(row.weight);
    entry.from.push(row.related);
    byTerm.set(row.term, entry);
  }

  return [...byTerm.values()].sort(
    (a, b) => b.strength - a.strength || a.term.localeCompare(b.term),
  );
}
