import { sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { queryRows, type Database } from "@/db/client";
import { contextLookups } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { now } from "@/server/runtime";
import { assertAgentActive } from "@/server/guardrails/agents";
import { parseInput } from "@/server/input";
import { questionTerms } from "./question";

// Answering: one section of a current document per question, or an honest
// "no answer". Ranking is PostgreSQL full-text search, with each question
// word weighed by how rare it is among the project's sections (IDF), since
// ts_rank alone counts a common word like "page" as much as "bodySizeLimit".

export const answerQuestionInput = z.object({
  project: z.string().min(1),
  q: z.string().trim().min(1).max(1000),
  /** The answer and its alternatives together. */
  limit: z.number().int().min(1).max(5).optional(),
  /** Only documents of this source answer. */
  source: z.string().trim().min(1).max(100).optional(),
  /** Stale, duplicate and superseded documents may answer too; the answer
   * then says which status it has and why. */
  includeStale: z.boolean().optional(),
});

export interface SectionPointer {
  path: string;
  source: string;
  heading: string;
  headingPath: string;
  line: number;
  score: number;
  /** Release of the source the section is from; "" when unversioned. */
  version: string;
  status: string;
}

export interface ContextAnswer extends SectionPointer {
  answered: true;
  question: string;
  sectionId: string;
  text: string;
  tokens: number;
  documentTokens: number;
  documentTitle: string;
  status: string;
  statusReason: string | null;
  /** Share of the question's weight that the section matched, 0..1. */
  coverage: number;
  alternatives: SectionPointer[];
}

export interface ContextNoAnswer {
  answered: false;
  question: string;
  reason: string;
  /** The nearest sections, too weak to serve, for a person to look at. */
  alternatives: SectionPointer[];
}

export type ContextResult = ContextAnswer | ContextNoAnswer;

/** Set on the 30 development questions (bench/eval-context.ts), where
 * they separate the 3 unanswerable ones from the rest; too few cases to
 * call them calibrated beyond that. */
export const answerThresholds = {
  /** Share of the question's weight in words no document contains. */
  maxUnknownShare: 0.3,
  /** Share of the known words' weight the best section must match. */
  minCoverage: 0.35,
};

/** Score factor of a stale, duplicate or superseded section. */
const statusWeight = 0.85;

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

interface TermRow {
  idx: number;
  query: string;
  df: number;
}

/** A plain word counts fully; a compound identifier (next/jest) only when
 * the docs contain it, its parts carrying it otherwise; a joined pair
 * (searchparams) only adds to the sections that contain it. */
type TermRole = "word" | "compound" | "joined";

interface Term {
  word: string;
  role: TermRole;
  query: string;
  df: number;
  idf: number;
}

interface CandidateRow {
  id: string;
  document_id: string;
  path: string;
  source: string;
  heading: string;
  heading_path: string;
  version: string;
  line: number;
  tokens: number;
  document_tokens: number;
  document_title: string;
  status: string;
  status_reason: string | null;
  rank_sum: number;
  matched_idf: number;
  heading_idf: number;
  path_hits: number;
  identifier_hits: number;
  in_scope: boolean;
}

/** Which documents may answer: canonical ones, or all on request; of one
 * source when asked. A deleted note never answers. */
function servableDocuments(options: {
  source?: string;
  includeStale?: boolean;
}): SQL {
  const status = options.includeStale ? sql`true` : sql`d.status = 'canonical'`;
  const source =
    options.source === undefined
      ? sql`true`
      : sql`d.source = ${options.source}`;

  return sql`${status} and ${source} and d.deleted_at is null`;
}

/** Stems each word with PostgreSQL and counts the sections containing it. */
async function weighTerms(
  db: Database,
  projectId: string,
  candidates: Array<{ word: string; role: TermRole }>,
  servable: SQL,
): Promise<{ terms: Term[]; sections: number }> {
  if (candidates.length === 0) return { terms: [], sections: 0 };
  const words = candidates.map((c) => c.word);
  const values = sql.join(
    words.map((word, i) => sql`(${i}::int, ${word}::text)`),
    sql`, `,
  );
  // Rarity is measured over the sections that may answer: indexing an
  // older release beside the current one must not change which current
  // section answers, and a word only stale copies use is unknown.
  // Kept as a filter beside the full-text match (not a CTE) so the GIN
  // index on the sections' search vector still finds the matches.
  const servableIds = sql`select d.id from context_documents d
    where d.project_id = ${projectId} and ${servable}`;
  const rows = await queryRows<TermRow & { sections: number }>(
    db,
    sql`select w.idx, plainto_tsquery('english', w.word)::text as query,
          (select count(*)::int from context_sections s
            where s.project_id = ${projectId}
              and s.search @@ plainto_tsquery('english', w.word)
              and s.document_id in (${servableIds})) as df,
          (select count(*)::int from context_sections s
            where s.project_id = ${projectId}
              and s.document_id in (${servableIds})) as sections
        from (values ${values}) as w(idx, word)`,
  );
  const count = Number(rows[0]?.sections ?? 0);
  const terms: Term[] = [];
  const seen = new Set<string>();
  for (const row of rows.sort((a, b) => a.idx - b.idx)) {
    // Stop words stem to nothing; "cache" and "caching" stem alike.
    if (!row.query || seen.has(row.query)) continue;
    seen.add(row.query);
    const df = Number(row.df);
    const { role } = candidates[row.idx];
    // A compound or joined form the docs never use says nothing.
    if (df === 0 && role !== "word") continue;
    terms.push({
      word: words[row.idx],
      role,
      query: row.query,
      df,
      idf: Math.log(1 + (count - df + 0.5) / (df + 0.5)),
    });
  }

  return { terms, sections: count };
}

async function rankSections(
  db: Database,
  projectId: string,
  terms: Term[],
  identifiers: string[],
  options: {
    scopes: string[];
    sections: number;
    limit: number;
    servable: SQL;
  },
): Promise<CandidateRow[]> {
  const { scopes, sections, limit, servable } = options;
  const present = terms.filter((t) => t.df > 0);
  if (present.length === 0) return [];
  // Words in more than a fifth of all sections ("use", "page") pick no
  // candidates (that would rank thousands of rows for little weight); they
  // still count for the candidates the rarer words found.
  const commonDf = Math.max(50, sections * 0.2);
  const anySelective = present.some((t) => t.df <= commonDf);
  const termValues = sql.join(
    present.map(
      (t) =>
        sql`(${t.query}::tsquery, ${t.idf}::float8, ${
          !anySelective || t.df <= commonDf
        }::boolean)`,
    ),
    sql`, `,
  );
  const identifierHits: SQL = identifiers.length
    ? sql.join(
        identifiers.map(
          (id) => sql`(strpos(lower(s.body), ${id.toLowerCase()}) > 0)::int`,
        ),
        sql` + `,
      )
    : sql`0`;

  // Stage one sums IDF-weighted ts_rank over every matching section; stage
  // two looks closer at the best few hundred: does the section's own
  // heading, or its document's path, name the question's words?
  return queryRows<CandidateRow>(
    db,
    sql`with terms(q, idf, selective) as (values ${termValues}),
        hits as (
          select s.id,
                 sum(t.idf * ts_rank(s.search, t.q, 1))::float8 as rank_sum,
                 sum(t.idf)::float8 as matched_idf
            from terms t
            join context_sections s on s.search @@ t.q
           where s.project_id = ${projectId} and t.selective
             and s.document_id in (
               select d.id from context_documents d
                where d.project_id = ${projectId} and ${servable})
           group by s.id
           order by sum(t.idf) * (1 + sum(t.idf * ts_rank(s.search, t.q, 1)))
             desc
           limit 200
        ),
        near as (
          select h.id,
                 sum(case when to_tsvector('english', s.heading) @@ t.q
                     then t.idf else 0 end)::float8 as heading_idf,
                 count(*) filter (where to_tsvector('english',
                       regexp_replace(translate(d.path, '/._-', '    '),
                         '([a-z0-9])([A-Z])', '\\1 \\2', 'g')) @@ t.q)::int
                   as path_hits,
                 sum(case when not t.selective and s.search @@ t.q
                     then t.idf * ts_rank(s.search, t.q, 1) else 0 end)::float8
                   as common_rank,
                 sum(case when not t.selective and s.search @@ t.q
                     then t.idf else 0 end)::float8 as common_idf
            from hits h
            join context_sections s on s.id = h.id
            join context_documents d on d.id = s.document_id
            cross join terms t
           group by h.id
        )
        select s.id, s.document_id, d.path, d.source, d.version, s.heading,
               s.heading_path, s.line, s.tokens,
               d.tokens as document_tokens, d.title as document_title,
               d.status, d.status_reason,
               h.rank_sum + n.common_rank as rank_sum,
               h.matched_idf + n.common_idf as matched_idf,
               n.heading_idf, n.path_hits,
               (${identifierHits})::int as identifier_hits,
               (split_part(d.path, '/', 1) in (${sql.join(
                 scopes.map((w) => sql`${w}`),
                 sql`, `,
               )}) and d.path like '%/%') as in_scope
          from hits h
          join near n on n.id = h.id
          join context_sections s on s.id = h.id
          join context_documents d on d.id = s.document_id
         order by (h.matched_idf + n.common_idf)
                  * (1 + h.rank_sum + n.common_rank) desc,
                  (d.status = 'canonical') desc, s.tokens desc
         limit ${limit}`,
  );
}

/** The final score: how much of the question a section covers, how well
 * (IDF-weighted ts_rank), and whether its heading, its path and its text
 * name the question's words and identifiers. */
function scoreCandidates(
  rows: CandidateRow[],
  knownIdf: number,
  identifierCount: number,
) {
  return rows
    .map((row) => {
      const coverage =
        knownIdf > 0 ? Math.min(1, row.matched_idf / knownIdf) : 0;
      const identifierShare = identifierCount
        ? row.identifier_hits / identifierCount
        : 0;
      const headingShare = knownIdf > 0 ? row.heading_idf / knownIdf : 0;
      const relevance =
        coverage * (1 + Math.log1p(row.rank_sum)) +
        0.25 * identifierShare +
        0.5 * headingShare +
        0.1 * row.path_hits +
        (row.in_scope ? 0.3 : 0);
      // When stale documents may answer, a current one that answers about
      // as well still wins.
      const score =
        row.status === "canonical" ? relevance : relevance * statusWeight;

      return { row, coverage, score };
    })
    .sort((a, b) => b.score - a.score);
}

function pointer(row: CandidateRow, score: number): SectionPointer {
  return {
    path: row.path,
    source: row.source,
    heading: row.heading,
    headingPath: row.heading_path,
    line: row.line,
    score: Math.round(score * 1000) / 1000,
    version: row.version,
    status: row.status,
  };
}

async function recordLookup(
  db: Database,
  actor: Actor,
  projectId: string,
  question: string,
  answer: ContextResult,
  sectionId: string | null,
) {
  await db.insert(contextLookups).values({
    projectId,
    agentId: actor.kind === "agent" ? actor.agentId : null,
    userId: actor.kind === "user" ? actor.userId : null,
    query: question,
    answered: answer.answered,
    sectionId,
    score: answer.answered ? answer.score : null,
    servedTokens: answer.answered ? answer.tokens : 0,
    documentTokens: answer.answered ? answer.documentTokens : 0,
    createdAt: now(),
  });
}

/** Ranks the project's current sections for a question and serves the
 * best one, or says there is no good answer. Every call is logged. */
export async function answerQuestion(
  db: Database,
  actor: Actor,
  input: z.input<typeof answerQuestionInput>,
): Promise<ContextResult> {
  const {
    project: slug,
    q,
    limit = 4,
    source,
    includeStale,
  } = parseInput(answerQuestionInput, input);
  const { project } = await requireProjectRole(db, actor, slug, "viewer");
  // A paused agent is refused here as everywhere else it asks for work.
  if (actor.kind === "agent") await assertAgentActive(db, actor.agentId);
  const { words, identifiers, joined } = questionTerms(q);
  const compound = /[^\p{L}\p{N}]/u;
  const servable = servableDocuments({ source, includeStale });
  const { terms, sections } = await weighTerms(
    db,
    project.id,
    [
      ...words.map((word) => ({
        word,
        role: (compound.test(word) ? "compound" : "word") as TermRole,
      })),
      ...joined.map((word) => ({ word, role: "joined" as const })),
    ],
    servable,
  );
  const asked = terms.filter((t) => t.role !== "joined");
  const unknown = asked.filter((t) => t.df === 0);
  const knownIdf = sum(asked.filter((t) => t.df > 0).map((t) => t.idf));
  const unknownIdf = sum(unknown.map((t) => t.idf));
  const unknownShare =
    unknownIdf > 0 ? unknownIdf / (knownIdf + unknownIdf) : 0;
  // A question that names a top-level folder ("app router", "pages")
  // is scoped to it; exact words only, so "page" does not pick "pages/".
  const scopes = q
    .toLowerCase()
    .split(/[^\p{L}\p{N}_-]+/u)
    .filter(Boolean);
  const rows = await rankSections(db, project.id, terms, identifiers, {
    scopes: scopes.length ? scopes : [""],
    sections,
    limit: 200,
    servable,
  });
  const scored = scoreCandidates(rows, knownIdf, identifiers.length);

  const best = scored[0];
  const nearest = scored
    .slice(0, limit)
    .map(({ row, score }) => pointer(row, score));
  const noAnswer = (reason: string): ContextNoAnswer => ({
    answered: false,
    question: q,
    reason,
    alternatives: nearest,
  });
  let result: ContextResult;
  if (unknown.length > 0 && unknownShare >= answerThresholds.maxUnknownShare) {
    // The question is about something the documents never mention.
    const names = unknown.map((t) => `"${t.word}"`).join(", ");
    result = noAnswer(`No document mentions ${names}`);
  } else if (!best) {
    result = noAnswer(
      terms.length === 0
        ? "The question has no searchable words"
        : "No section contains the question's words",
    );
  } else if (best.coverage < answerThresholds.minCoverage) {
    const matched = Math.round(best.coverage * 100);
    const needed = Math.round(answerThresholds.minCoverage * 100);
    result = noAnswer(
      `The best section matches ${matched}% of the question's weight; ` +
        `below ${needed}% is no answer`,
    );
  } else {
    const [text] = await queryRows<{ body: string }>(
      db,
      sql`select body from context_sections where id = ${best.row.id}`,
    );
    result = {
      answered: true,
      question: q,
      sectionId: best.row.id,
      ...pointer(best.row, best.score),
      text: text?.body ?? "",
      tokens: best.row.tokens,
      documentTokens: best.row.document_tokens,
      documentTitle: best.row.document_title,
      status: best.row.status,
      statusReason: best.row.status_reason,
      coverage: Math.round(best.coverage * 1000) / 1000,
      alternatives: nearest.slice(1),
    };
  }
  await recordLookup(
    db,
    actor,
    project.id,
    q,
    result,
    result.answered ? result.sectionId : null,
  );

  return result;
}
