import { sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { invalidInput, isForeignKeyViolation } from "@/server/errors";
import { queryRows, type Database } from "@/db/client";
import { contextLookups } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { now } from "@/server/runtime";
import { assertAgentActive } from "@/server/guardrails/agents";
import { parseInput } from "@/server/input";
import { askedKinds, documentKind, type DocumentKind } from "./document-kinds";
import { compareVersions } from "./status";
import { folderWords, namedWords, questionTerms } from "./question";
import {
  nearestLexeme,
  singleLexeme,
  weighLexemes,
  weighTerms,
  type Term,
  type TermRole,
} from "./term-stats";
import { relatedTerms } from "./term-links";
import { synonyms } from "./thesaurus";
import { trigramSimilarity, trigrams } from "./trigrams";
import { cosine, latentSpace, placeQuestion } from "./latent";
import { countTokens } from "./tokens";
import { recordActivity } from "@/server/observability/activity";

// Answering: one section of a current document per question, or an honest
// "no answer". Ranking is PostgreSQL full-text search, with each question
// word weighed by how rare it is among the project's sections (IDF), since
// ts_rank alone counts a common word like "page" as much as "bodySizeLimit".
// Trigram similarity (pg_trgm) corrects misspelled words against the
// headings and rewards a heading that reads like a terse question. Heading
// words the corpus links to the question's words (./term-links.ts) join
// as weak extra terms: they reorder what the question's own words found
// and never decide whether a section may be served.

/** How much an answer carries: a pointer only, the section's text, or the
 * whole text of the section's document. */
export const contextTiers = ["pointer", "section", "document"] as const;
export type ContextTier = (typeof contextTiers)[number];

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
  /** pointer: no text; section (default): the section's text; document:
   * the whole text of the section's document. */
  tier: z.enum(contextTiers).optional(),
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

/** A word of the question the lookup read as another: a synonym the
 * documents use ("typeface" as font) or the spelling closest to one of
 * their words ("revalidat" as revalidate; a stem ends in "…"). */
export interface ReadAs {
  word: string;
  as: string;
  why: "synonym" | "spelling";
}

export interface ContextAnswer extends SectionPointer {
  answered: true;
  question: string;
  tier: ContextTier;
  sectionId: string;
  /** Empty for a pointer; the section's text; or the whole document's. */
  text: string;
  /** Tokens of `text`. */
  tokens: number;
  /** Tokens the lookup served, as the ledger records them: `tokens`, or
   * for a pointer the tokens of the pointer line itself. */
  servedTokens: number;
  sectionTokens: number;
  documentTokens: number;
  /** Whole text of the three best-ranked distinct documents: what an
   * agent without this answer would read to decide. */
  top3Tokens: number;
  documentTitle: string;
  status: string;
  statusReason: string | null;
  /** Share of the question's weight that the section matched, 0..1. */
  coverage: number;
  readAs: ReadAs[];
  alternatives: SectionPointer[];
}

export interface ContextNoAnswer {
  answered: false;
  question: string;
  tier: ContextTier;
  reason: string;
  readAs: ReadAs[];
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
  /** A question with more searchable words than this spells out
   * circumstances no one section repeats ("three containers behind a load
   * balancer"), so the share it needs falls in proportion, down to
   * minLongCoverage. */
  longQuestionWords: 6,
  minLongCoverage: 0.25,
  /** A name the question writes ("Sentry", "GraphQL") that at most this
   * share of sections mention must be mentioned by the section served. */
  rareNameShare: 0.01,
};

/** Why a best section that matched too little of the question is no
 * answer, in percentages with as many decimals as it takes for the two to
 * read differently ("34.7%, below 35.0%", never "35%, below 35%"). */
export function weakMatchReason(coverage: number, needed: number): string {
  let digits = 0;
  const shown = (share: number) => (share * 100).toFixed(digits);
  while (digits < 3 && shown(coverage) === shown(needed)) digits++;

  return (
    `The best section matches ${shown(coverage)}% of the question's ` +
    `weight; below ${shown(needed)}% is no answer`
  );
}

/** Share of the question's weight the best section must match, for a
 * question with this many searchable words. */
function coverageNeeded(words: number): number {
  const { minCoverage, longQuestionWords, minLongCoverage } = answerThresholds;
  if (words <= longQuestionWords) return minCoverage;

  return Math.max(minLongCoverage, (minCoverage * longQuestionWords) / words);
}

/** Score factor of a stale, duplicate or superseded section. */
const statusWeight = 0.85;

/** Score factor per newer version of the same source among the
 * candidates: when older releases may answer, the newer copy still wins. */
const versionWeight = 0.95;

/** Score factor of an upgrade, migration or legacy document when the
 * question asks about no change, of an error explanation when it reports
 * no error, and of an experimental or canary page when it names no such
 * stage (./document-kinds.ts). */
const unaskedKindWeight = 0.8;

/** Score factor of a document in a top folder that mostly mirrors a
 * larger one (pages/ beside app/: the same paths below the top folder),
 * unless the question names that folder: docs kept for two ways of doing
 * the same thing answer the larger, current one by default. */
const shadowedWeight = 0.85;

/** Score factor of a document in a top folder the question turns away
 * from ("in app/, not pages/api"). */
const excludedWeight = 0.5;

/** Score factor of a section that is only a heading. */
const emptySectionWeight = 0.5;

/** Trigram similarity (0..1) a heading word needs to stand in for a
 * question word no document contains; "revalidatTag" to "revalidatetag"
 * is 0.69, "middlware" to "middleware" 0.62, "grpc" to "rpc" 0.29. */
const minCorrection = 0.5;

/** Weight of a word one edit from a misspelled one, found in the text
 * rather than in a heading. */
const lexiconCorrectionWeight = 0.8;

/** Weight of a synonym standing in for a word no document contains. */
const synonymWeight = 0.8;

/** Words shorter than this need minShortCorrection to be corrected. */
const minCorrectedLength = 6;
const minShortCorrection = 0.7;

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export interface CandidateRow {
  id: string;
  document_id: string;
  path: string;
  source: string;
  heading: string;
  heading_path: string;
  version: string;
  level: number;
  line: number;
  tokens: number;
  document_tokens: number;
  document_title: string;
  status: string;
  status_reason: string | null;
  rank_sum: number;
  matched_idf: number;
  /** matched_idf without related heading words: what the question's own
   * words match. */
  asked_idf: number;
  heading_idf: number;
  /** Positions (in the question's terms) of the words the section's own
   * heading names. */
  heading_terms: number[];
  heading_similarity: number;
  path_hits: number;
  identifier_hits: number;
  heading_identifier_hits: number;
  /** Whether the document's title is an identifier the question names. */
  title_identifier: boolean;
  /** Whether the section's heading is an identifier the question names. */
  heading_identifier: boolean;
  in_scope: boolean;
  /** Whether the document's top folder is one the question turns away
   * from ("not pages/api"). */
  excluded: boolean;
  /** Whether the document's top folder mostly repeats the paths of a
   * larger one (pages/ beside app/). */
  shadowed: boolean;
  /** Whether the section holds text beyond its heading line. */
  has_text: boolean;
  /** The release stage the document's front matter declares
   * ("experimental", "canary", "legacy"), lowercased, or "". */
  stage: string;
}

/** Which documents may answer: canonical ones, or all on request; of one
 * source when asked. A deleted note never answers. */
function servableDocuments(options: {
  source?: string;
  includeStale?: boolean;
}): { where: SQL; key: string } {
  const status = options.includeStale ? sql`true` : sql`d.status = 'canonical'`;
  const source =
    options.source === undefined
      ? sql`true`
      : sql`d.source = ${options.source}`;

  return {
    where: sql`${status} and ${source} and d.deleted_at is null`,
    key: JSON.stringify([options.source ?? null, !!options.includeStale]),
  };
}

/** Whether a document's top folder is one of `folders`; a document in
 * the root belongs to none. */
function inTopFolder(folders: string[]): SQL {
  if (folders.length === 0) return sql`false`;

  return sql`(split_part(d.path, '/', 1) in (${sql.join(
    folders.map((folder) => sql`${folder}`),
    sql`, `,
  )}) and d.path like '%/%')`;
}

async function rankSections(
  db: Database,
  projectId: string,
  terms: Term[],
  identifiers: string[],
  options: {
    scopes: string[];
    /** Top folders the question turns away from. */
    excluded: string[];
    /** Top folders that mostly mirror a larger one. */
    shadowed: string[];
    sections: number;
    limit: number;
    servable: SQL;
    /** The question's searchable words, compared with each heading. */
    asked: string;
  },
): Promise<CandidateRow[]> {
  const { scopes, excluded, shadowed, sections, limit, servable, asked } =
    options;
  const present = terms.filter((t) => t.df > 0);
  if (present.length === 0) return [];
  // Words in more than a tenth of all sections ("use", "page", "data")
  // pick no candidates (that would rank thousands of rows for little
  // weight); they still count for the candidates the rarer words found.
  const commonDf = Math.max(50, sections * 0.1);
  // Related heading words pick no candidates either: a section is served
  // only when the question's own words cover it, so they only rescore
  // what those words found.
  const picks = (t: Term) => t.role !== "related";
  // Whether one of the question's own words is rare enough to pick: a
  // joined pair ("fetch data" as fetchdata) may be rare only because a
  // code sample names a function so, and must not pick alone.
  const anySelective = present.some(
    (t) => picks(t) && t.df <= commonDf && t.role !== "joined",
  );
  const termValues = sql.join(
    present.map(
      (t, i) =>
        sql`(${i}::int, ${t.query}::tsquery, ${t.idf * t.weight}::float8, ${
          picks(t) && (!anySelective || t.df <= commonDf)
        }::boolean, ${t.role !== "related"}::boolean)`,
    ),
    sql`, `,
  );
  // An identifier in a section's own heading that its document's title
  // does not name (getServerSideProps in a migration guide) points at that
  // section; one the title names (forbidden() in forbidden.md) does not
  // tell the document's sections apart.
  const headingIdentifierHits: SQL = identifiers.length
    ? sql.join(
        identifiers.map((id) => {
          const name = id.replace(/\(\)$/, "").toLowerCase();

          return sql`(strpos(lower(s.heading), ${name}) > 0
            and strpos(lower(d.title), ${name}) = 0)::int`;
        }),
        sql` + `,
      )
    : sql`0`;
  // A document titled with an identifier the question names (redirect.md
  // titled "redirect" for redirect()) is that identifier's own page.
  const titleNames = [
    ...new Set(identifiers.map((id) => id.replace(/\(\)$/, "").toLowerCase())),
  ];
  const titleIdentifier: SQL = titleNames.length
    ? sql`lower(replace(d.title, chr(96), '')) in (${sql.join(
        titleNames.map((name) => sql`${name}`),
        sql`, `,
      )})`
    : sql`false`;
  // A heading that is nothing but a member the question names (`nextUrl`
  // for request.nextUrl, a camelCase part of a dotted or slashed name) is
  // that member's own section.
  const headingNames = [
    ...new Set(
      identifiers.flatMap((id) => {
        const bare = id.replace(/\(\)$/, "");
        const parts = bare
          .split(/[./]+/)
          .filter((part) => part !== bare && /[a-z][A-Z]|_/.test(part));

        return parts.map((name) => name.toLowerCase());
      }),
    ),
  ];
  const headingIdentifier: SQL = headingNames.length
    ? sql`lower(regexp_replace(replace(s.heading, chr(96), ''), '[()[:space:]]', '', 'g')) in (${sql.join(
        headingNames.map((name) => sql`${name}`),
        sql`, `,
      )})`
    : sql`false`;
  const identifierHits: SQL = identifiers.length
    ? sql.join(
        identifiers.map(
          (id) => sql`(strpos(lowered.text, ${id.toLowerCase()}) > 0)::int`,
        ),
        sql` + `,
      )
    : sql`0`;

  // Stage one sums IDF-weighted ts_rank over every matching section (the
  // servable documents hashed once, not looked up per match); stage two
  // looks closer at the best hundred: does the section's own heading,
  // or its document's path, name the question's words? Each candidate's
  // rows are read once, with the words of its heading and path stored at
  // indexing (migration 0012).
  const rows = await queryRows<Omit<CandidateRow, "heading_similarity">>(
    db,
    sql`with terms(i, q, idf, selective, counted) as (values ${termValues}),
        servable_documents as materialized (
          select d.id
            from context_documents d
           where d.project_id = ${projectId} and ${servable}
        ),
        hits as materialized (
          select s.id,
                 sum(t.idf * ts_rank(s.search, t.q, 1))::float8 as rank_sum,
                 sum(t.idf)::float8 as matched_idf,
                 coalesce(sum(t.idf) filter (where t.counted), 0)::float8
                   as asked_idf
            from terms t
            join context_sections s on s.search @@ t.q
            join servable_documents sd on sd.id = s.document_id
           where s.project_id = ${projectId} and t.selective
           group by s.id
           order by sum(t.idf) * (1 + sum(t.idf * ts_rank(s.search, t.q, 1)))
             desc
           limit 100
        ),
        candidates as materialized (
          select h.id, h.rank_sum, h.matched_idf, h.asked_idf,
                 s.search, s.heading_search, d.path_search,
                 s.document_id, d.path, d.source, d.version, s.heading,
                 s.heading_path, s.level, s.line, s.tokens,
                 d.tokens as document_tokens, d.title as document_title,
                 d.status, d.status_reason,
                 lower(coalesce(d.front_matter->>'version', '')) as stage,
                 (${identifierHits})::int as identifier_hits,
                 (${headingIdentifierHits})::int as heading_identifier_hits,
                 (${titleIdentifier}) as title_identifier,
                 (${headingIdentifier}) as heading_identifier,
                 ${inTopFolder(shadowed)} as shadowed,
                 s.has_text,
                 ${inTopFolder(scopes)} as in_scope,
                 ${inTopFolder(excluded)} as excluded
            from hits h
            join context_sections s on s.id = h.id
            join context_documents d on d.id = s.document_id
            -- The section's text lowercased once, not once per identifier
            -- (offset 0 keeps the planner from inlining it into each use).
            cross join lateral (
              select lower(s.heading_path || chr(10) || s.body) as text
              offset 0
            ) lowered
        ),
        near as (
          select c.id,
                 sum(case when c.heading_search @@ t.q
                     then t.idf else 0 end)::float8 as heading_idf,
                 coalesce(array_agg(t.i order by t.i)
                   filter (where c.heading_search @@ t.q), '{}')
                   as heading_terms,
                 count(*) filter (where c.path_search @@ t.q)::int
                   as path_hits,
                 sum(case when not t.selective and c.search @@ t.q
                     then t.idf * ts_rank(c.search, t.q, 1) else 0 end)::float8
                   as common_rank,
                 sum(case when not t.selective and c.search @@ t.q
                     then t.idf else 0 end)::float8 as common_idf,
                 sum(case when not t.selective and t.counted
                     and c.search @@ t.q then t.idf else 0 end)::float8
                   as common_asked_idf
            from candidates c
            cross join terms t
           group by c.id
        )
        select c.id, c.document_id, c.path, c.source, c.version, c.heading,
               c.heading_path, c.level, c.line, c.tokens, c.document_tokens,
               c.document_title, c.status, c.status_reason, c.stage,
               c.rank_sum + n.common_rank as rank_sum,
               c.matched_idf + n.common_idf as matched_idf,
               c.asked_idf + n.common_asked_idf as asked_idf,
               n.heading_idf, n.heading_terms,
               n.path_hits, c.identifier_hits, c.heading_identifier_hits,
               c.title_identifier, c.heading_identifier, c.shadowed,
               c.has_text, c.in_scope, c.excluded
          from candidates c
          join near n on n.id = c.id
         order by (c.matched_idf + n.common_idf)
                  * (1 + c.rank_sum + n.common_rank) desc,
                  (c.status = 'canonical') desc, c.tokens desc
         limit ${limit}`,
  );
  const question = trigrams(asked);

  return rows.map((row) => ({
    ...row,
    heading_similarity: trigramSimilarity(question, trigrams(row.heading)),
  }));
}

/** Relevance a section gains when its document's title is an
 * identifier the question names. */
const titleIdentifierWeight = 0.3;

/** Relevance a section gains when its heading is an identifier the
 * question names. */
const headingIdentifierWeight = 0.3;

/** Relevance a section gains by its closeness (cosine, 0..1) to the
 * question in the latent space of the documents' topics. */
const latentWeight = 1.2;

/** Weight of a heading's trigram similarity to the question's words: a
 * terse question ("cacheLife preset profiles") reads like the heading
 * that answers it; a long one resembles no heading much. */
const headingSimilarityWeight = 0.5;

/** For each source, how many newer versions of it the candidates hold
 * than the given one. */
function newerVersions(rows: CandidateRow[]) {
  const versions = new Map<string, string[]>();
  for (const row of rows) {
    const list = versions.get(row.source) ?? [];
    if (!list.includes(row.version)) list.push(row.version);
    versions.set(row.source, list);
  }

  return (row: CandidateRow) =>
    (versions.get(row.source) ?? []).filter(
      (v) => compareVersions(v, row.version) > 0,
    ).length;
}

/** The final score: how much of the question a section covers, how well
 * (IDF-weighted ts_rank), and whether its heading, its path and its text
 * name the question's words and identifiers; then status and version. */
function scoreCandidates(
  rows: CandidateRow[],
  knownIdf: number,
  identifierCount: number,
  asked: Set<DocumentKind>,
  closeness: (row: CandidateRow) => number = () => 0,
) {
  const newer = newerVersions(rows);
  // When the one identifier the question names has a page of its own
  // (titled with it), a heading that names it in a document whose path
  // names nothing else the question asks about is a mention ("Cookies" in
  // a guide to mutating data), not the identifier's own section.
  const ownPage = rows.some((row) => row.title_identifier);

  return rows
    .map((row) => {
      // Coverage counts the question's own words; related heading words
      // add to how well a section matches, never to whether it may serve.
      const coverage = knownIdf > 0 ? Math.min(1, row.asked_idf / knownIdf) : 0;
      const reach = knownIdf > 0 ? Math.min(1, row.matched_idf / knownIdf) : 0;
      const identifierShare = identifierCount
        ? row.identifier_hits / identifierCount
        : 0;
      const mention = ownPage && identifierCount === 1 && row.path_hits === 0;
      const headingIdentifierShare =
        identifierCount && !mention
          ? row.heading_identifier_hits / identifierCount
          : 0;
      const headingShare = knownIdf > 0 ? row.heading_idf / knownIdf : 0;
      const relevance =
        reach * (1 + Math.log1p(row.rank_sum)) +
        0.25 * identifierShare +
        0.5 * headingIdentifierShare +
        0.5 * headingShare +
        headingSimilarityWeight * row.heading_similarity +
        0.1 * row.path_hits +
        (row.in_scope ? 0.3 : 0) +
        (row.title_identifier ? titleIdentifierWeight : 0) +
        (row.heading_identifier ? headingIdentifierWeight : 0) +
        latentWeight * closeness(row);
      // When stale documents or older releases may answer, a current one
      // that answers about as well still wins.
      const status = row.status === "canonical" ? 1 : statusWeight;
      const kind = documentKind(row.path, row.document_title, row.stage);
      const kindWeight = kind && !asked.has(kind) ? unaskedKindWeight : 1;
      const mirror = row.shadowed && !row.in_scope ? shadowedWeight : 1;
      const away = row.excluded ? excludedWeight : 1;
      // A heading with nothing under it but subsections answers nothing
      // itself; the subsection that matches does.
      const text = row.has_text ? 1 : emptySectionWeight;
      const score =
        relevance *
        status *
        kindWeight *
        mirror *
        away *
        text *
        versionWeight ** newer(row);

      return { row, coverage, score };
    })
    .sort((a, b) => b.score - a.score);
}

/** Share of its parent's coverage a subsection needs to be served in
 * its place for naming more of the question in its heading. */
const focusedCoverageShare = 0.8;

/** Whether `child` sits under `parent` in the same document. */
function isWithin(child: CandidateRow, parent: CandidateRow): boolean {
  return (
    child.document_id === parent.document_id &&
    child.heading_path.startsWith(`${parent.heading_path} > `)
  );
}

export type Scored = ReturnType<typeof scoreCandidates>[number];

/** When a section and one below it both match, the one whose own heading
 * fits the question's focus answers: a subsection whose heading names
 * none of the question's words beyond its parent's heading ("Robots
 * fields" under "robots") is a detail the question did not ask about,
 * so the parent answers; a subsection whose heading names an identifier
 * of the question that the parent's heading does not (getServerSideProps
 * under "Migrating Data Fetching Methods") is what was asked, so it
 * answers; so does one whose heading names more of the question's words
 * than the parent's ("Encrypting and decrypting sessions" under "Session
 * Management") while covering nearly as much of the question. Either way
 * the section raised must itself match enough of the question to be
 * served. The document's title section is no parent
 * here: its heading names the whole document, and every section sits
 * under it. */
export function preferFocusedSections(scored: Scored[], top = 5): Scored[] {
  const list = scored.map((s) => ({ ...s }));
  const raise = (winner: Scored, loser: Scored) => {
    if (winner.score <= loser.score) winner.score = loser.score * 1.001;
  };
  for (const item of list.slice(0, top)) {
    for (const other of list) {
      if (other === item) continue;
      const [parent, child] = isWithin(item.row, other.row)
        ? [other, item]
        : isWithin(other.row, item.row)
          ? [item, other]
          : [null, null];
      if (!parent || !child || parent.row.level < 2) continue;
      const parentTerms = new Set(parent.row.heading_terms);
      const childAdds = child.row.heading_terms.some(
        (t) => !parentTerms.has(t),
      );
      if (
        child.row.heading_identifier_hits >
          parent.row.heading_identifier_hits &&
        child.coverage >= answerThresholds.minCoverage
      ) {
        raise(child, parent);
      } else if (
        childAdds &&
        child.row.heading_idf > parent.row.heading_idf &&
        child.coverage >= answerThresholds.minCoverage &&
        child.coverage >= focusedCoverageShare * parent.coverage
      ) {
        raise(child, parent);
      } else if (
        !childAdds &&
        parentTerms.size > 0 &&
        parent.row.has_text &&
        parent.coverage >= answerThresholds.minCoverage
      ) {
        raise(parent, child);
      }
    }
  }
  list.sort((a, b) => b.score - a.score);
  // A document's introduction names its topic; when one of the document's
  // own sections matches the question nearly as well, that section says
  // the particular thing asked ("the Modals section" of intercepting
  // routes, not its overview).
  const lead = list[0];
  if (lead && lead.row.level <= 1) {
    const particular = list
      .slice(1, top)
      .find(
        (s) =>
          s.row.document_id === lead.row.document_id &&
          s.row.level > lead.row.level &&
          s.row.has_text &&
          s.coverage >= answerThresholds.minCoverage &&
          s.coverage >= focusedCoverageShare * lead.coverage,
      );
    if (particular) {
      raise(particular, lead);
      list.sort((a, b) => b.score - a.score);
    }
  }

  return list;
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

/** Heading words close to question words no document contains, by
 * trigram similarity: "revalidatTag" finds revalidateTag. Looks only at
 * the heading paths (trigram-indexed), where API names and topics are. */
interface Correction {
  /** The heading word, lowercased as the question's words are. */
  word: string;
  /** As a heading writes it ("revalidateTag"). */
  shown: string;
  similarity: number;
}

async function correctWords(
  db: Database,
  projectId: string,
  words: string[],
  servable: SQL,
): Promise<Map<string, Correction>> {
  const corrections = new Map<string, Correction>();
  if (words.length === 0) return corrections;
  const values = sql.join(
    words.map((word, i) => sql`(${i}::int, ${word}::text)`),
    sql`, `,
  );
  const rows = await queryRows<{
    idx: number;
    word: string;
    shown: string;
    sim: number;
  }>(
    db,
    sql`select w.idx, x.word, x.shown,
               similarity(w.word, x.word)::float8 as sim
          from (values ${values}) as w(idx, word)
          cross join lateral (
            select lower(part) as word, min(part) as shown
              from context_sections s
              cross join lateral regexp_split_to_table(
                s.heading_path, '[^[:alnum:]_]+') as part
             where s.project_id = ${projectId}
               and s.heading_path %> w.word
               and s.document_id in (select d.id from context_documents d
                 where d.project_id = ${projectId} and ${servable})
             group by lower(part)
          ) as x
         where similarity(w.word, x.word) >= ${minCorrection}
         order by w.idx, sim desc, x.word`,
  );
  for (const row of rows) {
    const word = words[Number(row.idx)];
    if (!corrections.has(word) && row.word !== word) {
      corrections.set(word, {
        word: row.word,
        shown: row.shown,
        similarity: Number(row.sim),
      });
    }
  }

  return corrections;
}

/** How many related heading words a question may gain, the strength
 * (summed over the question's words) one needs, and the weight of a
 * related word of full strength relative to a word the question used. */
const relatedLimits = {
  terms: 2,
  minStrength: 0.6,
  weight: 0.5,
};

/** Heading words the question's words are linked to (./term-links.ts),
 * as extra terms weighed down by their strength. */
async function relatedHeadingTerms(
  db: Database,
  projectId: string,
  terms: Term[],
  servable: { where: SQL; key: string },
  source: string | undefined,
): Promise<Term[]> {
  const known = new Set(terms.map((t) => t.query));
  const lexemes = terms.flatMap((t) => {
    const lexeme = t.role === "word" && t.df > 0 ? singleLexeme(t.query) : null;

    return lexeme ? [lexeme] : [];
  });
  const found = (await relatedTerms(db, projectId, lexemes, source))
    .filter((r) => r.strength >= relatedLimits.minStrength)
    .filter((r) => !known.has(`'${r.term}'`))
    .slice(0, relatedLimits.terms);

  return weighLexemes(
    projectId,
    found.map((r) => r.term),
    servable,
  ).flatMap((term) => {
    const link = found.find((r) => r.term === term.word);
    if (!link) return [];

    return [
      {
        ...term,
        weight: relatedLimits.weight * Math.min(1, link.strength),
        relatedTo: link.from,
      },
    ];
  });
}

/** Words as a reason lists them: "kafka", "quic". */
const quoteWords = (words: string[]) => words.map((w) => `"${w}"`).join(", ");

/** The first of the candidates that mentions every one of the words
 * (whole words, any case) in its own heading path or text, or whose
 * document does in its title and introduction (the page that opens on
 * deploying with Docker, for its section on copying the files a server
 * needs), among those that match enough of the question to be served. */
async function firstMentioning(
  db: Database,
  candidates: Scored[],
  words: string[],
  minCoverage: number,
): Promise<Scored | undefined> {
  const servable = candidates.filter((c) => c.coverage >= minCoverage);
  if (servable.length === 0) return undefined;
  // Names are letters and digits only (namedWords), so they sit in the
  // pattern as they are. A whole word is one with no word character on
  // either side: \m and \M would also need the name's own first and last
  // characters to be word characters, which "²" in HTTP² is not.
  const mentionsAll = sql.join(
    words.map(
      (word) =>
        sql`(s.heading_path || chr(10) || s.body) ~* ('(^|[^[:alnum:]_])' || ${word} || '($|[^[:alnum:]_])')`,
    ),
    sql` and `,
  );
  const list = (ids: string[]) =>
    sql.join(
      [...new Set(ids)].map((id) => sql`${id}`),
      sql`, `,
    );
  const rows = await queryRows<{
    id: string;
    document_id: string;
    level: number;
  }>(
    db,
    sql`select s.id, s.document_id, s.level
          from context_sections s
         where (s.id in (${list(servable.map((c) => c.row.id))})
                or (s.level <= 1 and s.document_id in (${list(
                  servable.map((c) => c.row.document_id),
                )})))
           and ${mentionsAll}`,
  );
  const sections = new Set(rows.map((r) => r.id));
  const introductions = new Set(
    rows.filter((r) => Number(r.level) <= 1).map((r) => r.document_id),
  );

  return servable.find(
    (c) => sections.has(c.row.id) || introductions.has(c.row.document_id),
  );
}

/** Why words no servable document contains leave the question without
 * an answer; when only stale, duplicate or superseded documents mention
 * them, says so, so the asker knows include_stale would find them. */
async function unmentioned(
  db: Database,
  projectId: string,
  words: string[],
  includeStale: boolean | undefined,
  source: string | undefined,
): Promise<string> {
  if (includeStale) return `No document mentions ${quoteWords(words)}`;
  const { terms } = await weighTerms(
    db,
    projectId,
    words.map((word) => ({ word, role: "word" as const })),
    servableDocuments({ source, includeStale: true }),
  );
  const inOlder = terms.filter((t) => t.df > 0).map((t) => t.word);

  return inOlder.length === 0
    ? `No document mentions ${quoteWords(words)}`
    : `No current document mentions ${quoteWords(words)}; stale, duplicate ` +
        `or superseded ones mention ${quoteWords(inOlder)} (ask with include_stale ` +
        `to search them)`;
}

/** Why a project with no servable section cannot answer: nothing is
 * indexed yet, or only documents the question did not ask to search. */
async function nothingIndexed(
  db: Database,
  projectId: string,
  includeStale: boolean | undefined,
): Promise<string> {
  const [row] = await queryRows<{ sections: number }>(
    db,
    sql`select count(*)::int as sections from context_sections s
          join context_documents d on d.id = s.document_id
         where s.project_id = ${projectId} and d.deleted_at is null`,
  );
  if (Number(row?.sections ?? 0) === 0) {
    return (
      "Nothing is indexed in this project yet: index a folder with " +
      "`flotilla context index` or upload markdown on the Context page"
    );
  }

  return includeStale
    ? "No indexed document answers from this source"
    : "No current document is indexed here; stale, duplicate or " +
        "superseded ones answer only with include_stale";
}

/** Refuses a source the project has no documents of, naming the ones it
 * has. */
async function assertSourceExists(
  db: Database,
  projectId: string,
  source: string,
): Promise<void> {
  const rows = await queryRows<{ source: string }>(
    db,
    sql`select distinct source from context_documents
         where project_id = ${projectId} and deleted_at is null
         order by source`,
  );
  if (rows.some((r) => r.source === source)) return;
  const known = rows.map((r) => `"${r.source}"`).join(", ");
  throw invalidInput(`No source named "${source}" in this project`, [
    {
      path: "source",
      message: known
        ? `no documents of source "${source}"; the project's sources are ${known}`
        : `no documents of source "${source}"; the project has no documents yet`,
    },
  ]);
}

/** Tokens of the three best-ranked distinct documents' whole texts. */
function topDocumentsTokens(rows: CandidateRow[]): number {
  const seen = new Map<string, number>();
  for (const row of rows) {
    if (seen.size === 3) break;
    if (!seen.has(row.document_id)) {
      seen.set(row.document_id, row.document_tokens);
    }
  }

  return sum([...seen.values()]);
}

async function recordLookup(
  db: Database,
  actor: Actor,
  projectId: string,
  answer: ContextResult,
  top3Tokens: number,
) {
  const row = {
    projectId,
    agentId: actor.kind === "agent" ? actor.agentId : null,
    userId: actor.kind === "user" ? actor.userId : null,
    query: answer.question,
    answered: answer.answered,
    sectionId: answer.answered ? answer.sectionId : null,
    score: answer.answered ? answer.score : null,
    servedTokens: answer.answered ? answer.servedTokens : 0,
    documentTokens: answer.answered ? answer.documentTokens : 0,
    top3Tokens,
    tier: answer.tier,
    servedStatus: answer.answered ? answer.status : null,
    createdAt: now(),
  };
  try {
    await db.insert(contextLookups).values(row);
  } catch (error) {
    // The section was replaced since it was ranked (a note patched, its
    // source re-indexed): the lookup is kept without the link.
    if (!isForeignKeyViolation(error)) throw error;
    await db.insert(contextLookups).values({ ...row, sectionId: null });
  }
  // The lookup also joins the agent's session trace.
  recordActivity(db, actor, [
    {
      type: "context_lookup",
      name: answer.answered ? "context.answered" : "context.no_answer",
      input: { question: answer.question, tier: answer.tier },
      output: answer.answered
        ? {
            path: answer.path,
            heading: answer.headingPath,
            status: answer.status,
            servedTokens: answer.servedTokens,
            documentTokens: answer.documentTokens,
            top3Tokens,
          }
        : { reason: answer.reason },
    },
  ]);
}

/** The text a tier serves: none, the section's, or the whole document's
 * (its sections in order). */
async function tierText(
  db: Database,
  tier: ContextTier,
  row: CandidateRow,
): Promise<{ text: string; tokens: number }> {
  if (tier === "pointer") return { text: "", tokens: 0 };
  if (tier === "section") {
    // By id; or, when the section was replaced since it was ranked (its
    // note patched, its source re-indexed), the same heading's current
    // text in the same document.
    const [section] = await queryRows<{ body: string; tokens: number }>(
      db,
      sql`select body, tokens from context_sections
           where id = ${row.id}
              or (document_id = ${row.document_id}
                  and heading_path = ${row.heading_path})
           order by (id = ${row.id}) desc, ordinal
           limit 1`,
    );

    return { text: section?.body ?? "", tokens: section?.tokens ?? 0 };
  }
  const sections = await queryRows<{ body: string }>(
    db,
    sql`select body from context_sections
         where document_id = ${row.document_id} order by ordinal`,
  );

  return {
    text: sections.map((s) => s.body.trimEnd()).join("\n\n"),
    tokens: row.document_tokens,
  };
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
    tier = "section",
  } = parseInput(answerQuestionInput, input);
  const { project } = await requireProjectRole(db, actor, slug, "viewer");
  // A paused agent is refused here as everywhere else it asks for work.
  if (actor.kind === "agent") await assertAgentActive(db, actor.agentId);
  if (source !== undefined) await assertSourceExists(db, project.id, source);
  const { words, identifiers, joined } = questionTerms(q);
  const compound = /[^\p{L}\p{N}]/u;
  const servable = servableDocuments({ source, includeStale });
  const weighed = await weighTerms(
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
  const { sections, shadowed } = weighed;
  // A question that names a top-level folder ("app router", "pages")
  // is scoped to it; exact words only, so "page" does not pick "pages/".
  // One it names only to turn away from ("not pages/api") is no search
  // word, and its documents answer last.
  const folders = folderWords(q);
  const excluded = folders.excluded.filter((w) => weighed.folders.includes(w));
  const turnedAway = (word: string) =>
    excluded.some((folder) => word === folder || word.startsWith(`${folder}/`));
  // So is the noun that only named it ("router" in "not the pages router").
  const nouns = excluded.length ? folders.excludedNouns : [];
  let terms = weighed.terms.filter(
    (t) => !turnedAway(t.word) && !nouns.includes(t.word),
  );

  // An English word no document contains stands in for its commonest
  // synonym that one does ("typeface" for font). A name the question
  // writes ("Svelte") still has to be in the documents (below).
  const absent = terms.filter(
    (t) => t.df === 0 && t.role === "word" && /^\p{L}{4,}$/u.test(t.word),
  );
  const synonymsOf = new Map(absent.map((t) => [t.word, synonyms(t.word)]));
  const candidates = [...new Set([...synonymsOf.values()].flat())];
  // Words whose synonym the question asks too ("which typeface do Google
  // fonts use"): said twice, they are no unknown word.
  const restated = new Set<string>();
  if (candidates.length > 0) {
    const found = await weighTerms(
      db,
      project.id,
      candidates.map((word) => ({ word, role: "word" as const })),
      servable,
    );
    const known = new Set(terms.map((t) => t.query));
    for (const [word, list] of synonymsOf) {
      const term = list
        .map((synonym) => found.terms.find((t) => t.word === synonym))
        .find((t) => t && t.df > 0);
      if (!term) continue;
      if (known.has(term.query)) {
        restated.add(word);
        continue;
      }
      known.add(term.query);
      terms = [...terms, { ...term, weight: synonymWeight, corrects: word }];
    }
  }
  // A misspelled word no document contains stands in for the heading word
  // it is closest to, weighed by how close.
  const misspelt = terms.filter(
    (t) =>
      t.df === 0 &&
      t.role === "word" &&
      /^\p{L}{4,}$/u.test(t.word) &&
      !restated.has(t.word) &&
      !terms.some((other) => other.corrects === t.word),
  );
  /** A heading word a misspelling was read as, as the heading writes it. */
  const headingForms = new Map<string, string>();
  const corrections = await correctWords(
    db,
    project.id,
    misspelt.map((t) => t.word),
    servable.where,
  );
  if (corrections.size > 0) {
    const corrected = await weighTerms(
      db,
      project.id,
      [...corrections.values()].map((c) => ({
        word: c.word,
        role: "word" as const,
      })),
      servable,
    );
    const known = new Set(terms.map((t) => t.query));
    for (const [word, correction] of corrections) {
      const term = corrected.terms.find((t) => t.word === correction.word);
      if (!term || term.df === 0 || known.has(term.query)) continue;
      // A short word is as likely another word as a typo ("pager" is
      // not "page"): only a close match stands in for it.
      if (
        word.length < minCorrectedLength &&
        correction.similarity < minShortCorrection
      ) {
        continue;
      }
      known.add(term.query);
      terms = [
        ...terms,
        { ...term, weight: correction.similarity, corrects: word },
      ];
      headingForms.set(term.word, correction.shown);
    }
  }
  /** Corrections that are stems of a word, not words (./term-stats.ts). */
  const stems = new Set<string>();
  // A misspelled word no heading resembles may still be one edit from a
  // word of the text ("exlude" for exclude); the commonest such word
  // stands in for it, weighed down a little.
  const known = new Set(terms.map((t) => t.query));
  for (const t of misspelt) {
    // A short word is as likely another word ("pager" is not "page").
    if (t.word.length < minCorrectedLength) continue;
    if (terms.some((other) => other.corrects === t.word)) continue;
    const lexeme = singleLexeme(t.query);
    const near = lexeme ? nearestLexeme(project.id, lexeme, servable) : null;
    if (!near || known.has(near.query)) continue;
    known.add(near.query);
    terms = [
      ...terms,
      { ...near, weight: lexiconCorrectionWeight, corrects: t.word },
    ];
    stems.add(near.word);
  }

  // Heading words the question's words are linked to in the corpus
  // ("icon" and "site" to "favicon") join as weak extra terms.
  const related = await relatedHeadingTerms(
    db,
    project.id,
    terms,
    servable,
    source,
  );
  terms = [...terms, ...related];
  const correctedWords = new Set(
    terms.flatMap((t) => (t.corrects ? [t.corrects] : [])),
  );
  // How the question was read, for the agent and the playground to show,
  // each word as the question and the documents write it.
  const lowered = q.toLowerCase();
  const asAsked = (word: string) => {
    const at = lowered.length === q.length ? lowered.indexOf(word) : -1;

    return at < 0 ? word : q.slice(at, at + word.length);
  };
  const readAs: ReadAs[] = terms.flatMap((t) =>
    t.corrects
      ? [
          {
            word: asAsked(t.corrects),
            as: stems.has(t.word)
              ? `${t.word}…`
              : (headingForms.get(t.word) ?? t.word),
            why: synonymsOf.get(t.corrects)?.includes(t.word)
              ? ("synonym" as const)
              : ("spelling" as const),
          },
        ]
      : [],
  );
  const asked = terms.filter(
    (t) => t.role !== "joined" && t.role !== "related",
  );
  const unknown = asked.filter((t) => t.df === 0);
  // A corrected word counts as known, with the weight of its correction.
  const knownIdf = sum(
    asked.filter((t) => t.df > 0).map((t) => t.idf * t.weight),
  );
  const stillUnknown = unknown.filter(
    (t) => !correctedWords.has(t.word) && !restated.has(t.word),
  );
  const unknownIdf = sum(stillUnknown.map((t) => t.idf));
  const unknownShare =
    unknownIdf > 0 ? unknownIdf / (knownIdf + unknownIdf) : 0;
  const wanted = identifiers.filter((id) => !turnedAway(id.toLowerCase()));
  const rows = await rankSections(db, project.id, terms, wanted, {
    scopes: folders.named,
    excluded,
    shadowed,
    sections,
    limit: 200,
    servable: servable.where,
    asked: asked
      .filter((t) => t.df > 0)
      .map((t) => t.word)
      .join(" "),
  });
  const minCoverage = coverageNeeded(asked.filter((t) => t.df > 0).length);
  // Where the question sits among the sections' topics, once the latent
  // space of these documents is ready (./latent.ts).
  const space = await latentSpace(
    db,
    project.id,
    servable,
    weighed.fingerprint,
    sections,
  );
  const point = space
    ? placeQuestion(
        space,
        asked.flatMap((t) => {
          const lexeme = t.df > 0 ? singleLexeme(t.query) : null;

          return lexeme ? [{ lexeme, weight: t.idf * t.weight }] : [];
        }),
      )
    : null;
  const closeness = (row: CandidateRow) => {
    const vector = point && space?.sections.get(row.id);

    return vector ? Math.max(0, cosine(point, vector)) : 0;
  };
  const scored = preferFocusedSections(
    scoreCandidates(rows, knownIdf, wanted.length, askedKinds(q), closeness),
  );
  const top3Tokens = topDocumentsTokens(scored.map((s) => s.row));

  const nearest = scored
    .slice(0, limit)
    .map(({ row, score }) => pointer(row, score));
  const noAnswer = (reason: string): ContextNoAnswer => ({
    answered: false,
    question: q,
    tier,
    reason,
    readAs,
    alternatives: nearest,
  });
  let result: ContextResult;
  // Products and protocols the question names that few sections mention
  // (or none, though a word like it exists): the section served must
  // mention them itself.
  const named = namedWords(q);
  const rareNames = words.filter((word) => {
    if (!named.has(word)) return false;
    const term = terms.find((t) => t.word === word && !t.corrects);

    return (
      !term || term.df <= Math.max(3, sections * answerThresholds.rareNameShare)
    );
  });
  const absentNames = rareNames.filter(
    (word) => !terms.some((t) => t.word === word && t.df > 0),
  );
  const best =
    rareNames.length === 0
      ? scored[0]
      : absentNames.length > 0
        ? undefined
        : await firstMentioning(db, scored.slice(0, 5), rareNames, minCoverage);
  if (sections === 0 && weighed.terms.length > 0) {
    // Nothing to search: say so, not that no document mentions the words.
    // (A question without searchable words counts no sections either.)
    result = noAnswer(await nothingIndexed(db, project.id, includeStale));
  } else if (absentNames.length > 0) {
    // A product or protocol the question names that no document mentions.
    result = noAnswer(
      await unmentioned(db, project.id, absentNames, includeStale, source),
    );
  } else if (rareNames.length > 0 && !best) {
    result = noAnswer(
      `No section that matches the question mentions ${quoteWords(rareNames)}`,
    );
  } else if (
    unknownShare >= answerThresholds.maxUnknownShare &&
    unknownIdf > 0
  ) {
    // The question is about something the documents never mention.
    result = noAnswer(
      await unmentioned(
        db,
        project.id,
        stillUnknown.map((t) => t.word),
        includeStale,
        source,
      ),
    );
  } else if (!best) {
    result = noAnswer(
      terms.length === 0
        ? "The question has no searchable words"
        : "No section contains the question's words",
    );
  } else if (best.coverage < minCoverage) {
    result = noAnswer(weakMatchReason(best.coverage, minCoverage));
  } else {
    const served = await tierText(db, tier, best.row);
    const at = pointer(best.row, best.score);
    result = {
      answered: true,
      question: q,
      tier,
      sectionId: best.row.id,
      ...at,
      text: served.text,
      tokens: served.tokens,
      servedTokens:
        tier === "pointer"
          ? countTokens(`${at.path}:${at.line} ${at.headingPath}`)
          : served.tokens,
      sectionTokens: best.row.tokens,
      documentTokens: best.row.document_tokens,
      top3Tokens,
      documentTitle: best.row.document_title,
      status: best.row.status,
      statusReason: best.row.status_reason,
      coverage: Math.round(best.coverage * 1000) / 1000,
      readAs,
      alternatives: scored
        .filter((s) => s !== best)
        .slice(0, limit - 1)
        .map(({ row, score }) => pointer(row, score)),
    };
  }
  await recordLookup(db, actor, project.id, result, top3Tokens);

  return result;
}
