import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  bigserial,
} from "drizzle-orm/pg-core";
import { agents, projects } from "./identity";

const tsvector = customType<{ data: string }>({
  dataType: () => "tsvector",
});

export const contextDocuments = pgTable(
  "context_documents",
  {
    id: uuid("id").primaryKey(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    source: text("source").notNull().default("default"),
    // Release of the source this copy belongs to; "" when unversioned. The
    // newest version's documents are current, older ones stale copies.
    version: text("version").notNull().default(""),
    path: text("path").notNull(),
    title: text("title").notNull(),
    frontMatter: jsonb("front_matter").$type<Record<string, unknown>>(),
    status: text("status").notNull().default("canonical"),
    statusReason: text("status_reason"),
    // The current document a stale or duplicate one is a copy of.
    canonicalDocumentId: uuid("canonical_document_id").references(
      (): AnyPgColumn => contextDocuments.id,
      { onDelete: "set null" },
    ),
    // An operator's pin ("canonical" | "stale"), beating every other rule.
    statusOverride: text("status_override"),
    statusOverrideReason: text("status_override_reason"),
    // MinHash of the text, for near-duplicates and matching across versions.
    signature: jsonb("signature").$type<number[]>(),
    // When the file last changed: its last git commit where the folder is a
    // git working tree (modified_by is that commit's author), else the
    // file's modification time.
    modifiedAt: timestamp("modified_at", { withTimezone: true }),
    modifiedBy: text("modified_by"),
    // "git" | "file" | "api": where modified_at came from.
    modifiedSource: text("modified_source"),
    contentHash: text("content_hash").notNull(),
    tokens: integer("tokens").notNull(),
    lines: integer("lines").notNull(),
    indexedAt: timestamp("indexed_at", { withTimezone: true }).notNull(),
    // Set only on documents agents wrote back (source "agent-notes"): what
    // the note is about, and whether it is a decision, runbook or note.
    topic: text("topic"),
    kind: text("kind"),
    // A soft-deleted note is listed but never answers; restore clears it.
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
    // The path's words ("app/api-reference/functions/cookies.md" gives
    // "app api refer function cooki md"), camelCase parts split: ranking
    // asks whether the path names a question's word.
    pathSearch: tsvector("path_search").generatedAlwaysAs(
      sql`to_tsvector('english', regexp_replace(translate("path", '/._-', '    '), '([a-z0-9])([A-Z])', '\\1 \\2', 'g'))`,
    ),
  },
  (t) => [
    uniqueIndex("context_documents_path_uq").on(
      t.projectId,
      t.source,
      t.version,
      t.path,
    ),
    // One live canonical note per topic, even under concurrent writes.
    uniqueIndex("context_documents_topic_uq")
      .on(t.projectId, t.topic)
      .where(
        sql`${t.topic} is not null and ${t.status} = 'canonical' and ${t.deletedAt} is null`,
      ),
  ],
);

// Every text an agent-written document has had, newest number last: the
// first write, then one row per patch. Superseded documents keep theirs.
export const contextDocumentVersions = pgTable(
  "context_document_versions",
  {
    id: uuid("id").primaryKey(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    documentId: uuid("document_id")
      .notNull()
      .references(() => contextDocuments.id, { onDelete: "cascade" }),
    number: integer("number").notNull(),
    // "written" for the first text, "patched" for a section replaced.
    change: text("change").notNull(),
    // The heading path a patch replaced the body of.
    heading: text("heading"),
    title: text("title").notNull(),
    content: text("content").notNull(),
    contentHash: text("content_hash").notNull(),
    tokens: integer("tokens").notNull(),
    agentId: uuid("agent_id").references(() => agents.id, {
      onDelete: "set null",
    }),
    actorLabel: text("actor_label").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex("context_document_versions_uq").on(t.documentId, t.number),
  ],
);

export const contextSections = pgTable(
  "context_sections",
  {
    id: uuid("id").primaryKey(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    documentId: uuid("document_id")
      .notNull()
      .references(() => contextDocuments.id, { onDelete: "cascade" }),
    ordinal: integer("ordinal").notNull(),
    heading: text("heading").notNull(),
    // Breadcrumb of headings, e.g. "Caching > Revalidation > revalidateTag".
    headingPath: text("heading_path").notNull(),
    level: integer("level").notNull(),
    line: integer("line").notNull(),
    body: text("body").notNull(),
    tokens: integer("tokens").notNull(),
    // Heading path (A) and body (B), each with the words inside its
    // identifiers (context_identifier_parts, migration 0011: "@vercel/otel"
    // adds "vercel otel", "useReportWebVitals" adds "use report web vitals").
    search: tsvector("search").generatedAlwaysAs(
      sql`setweight(to_tsvector('english', coalesce("heading_path", '')), 'A') || setweight(to_tsvector('english', context_identifier_parts("heading_path")), 'A') || setweight(to_tsvector('english', coalesce("body", '')), 'B') || setweight(to_tsvector('english', context_identifier_parts("body")), 'B')`,
    ),
    // The section's own heading (not its breadcrumb), with its
    // identifiers' words: ranking asks which question words it names.
    headingSearch: tsvector("heading_search").generatedAlwaysAs(
      sql`to_tsvector('english', "heading") || to_tsvector('english', context_identifier_parts("heading"))`,
    ),
    // Whether the section holds text beyond its heading line (a document's
    // introduction, level 0, always counts).
    hasText: boolean("has_text").generatedAlwaysAs(
      sql`"level" = 0 or "body" ~ '\\n\\s*\\S'`,
    ),
  },
  (t) => [
    index("context_sections_doc_idx").on(t.documentId),
    index("context_sections_search_idx").using("gin", t.search),
    // Trigram index on the breadcrumb: finds the heading a misspelled or
    // terse question word is closest to (pg_trgm word_similarity).
    index("context_sections_heading_trgm_idx").using(
      "gin",
      sql`${t.headingPath} gin_trgm_ops`,
    ),
  ],
);

// One row per question asked, answered or not.
export const contextLookups = pgTable(
  "context_lookups",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    agentId: uuid("agent_id").references(() => agents.id, {
      onDelete: "set null",
    }),
    userId: text("user_id"),
    query: text("query").notNull(),
    answered: boolean("answered").notNull(),
    sectionId: uuid("section_id").references(() => contextSections.id, {
      onDelete: "set null",
    }),
    score: real("score"),
    servedTokens: integer("served_tokens").notNull().default(0),
    documentTokens: integer("document_tokens").notNull().default(0),
    // Baseline two: the whole text of the three best-ranked documents, what
    // an agent without Flotilla would read to decide.
    top3Tokens: integer("top3_tokens").notNull().default(0),
    // pointer | section | document: how much the caller asked for.
    tier: text("tier").notNull().default("section"),
    // The status of the served section's document when it was served.
    servedStatus: text("served_status"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("context_lookups_project_idx").on(t.projectId, t.createdAt)],
);

// Per-project context settings; a project without a row uses the defaults.
export const contextSettings = pgTable("context_settings", {
  projectId: uuid("project_id")
    .primaryKey()
    .references(() => projects.id, { onDelete: "cascade" }),
  // Documents unchanged for longer than this are flagged as possibly stale
  // (a weak signal, shown as a reason; it never outranks versions or an
  // operator's pin). Null: no age rule.
  staleAfterDays: integer("stale_after_days"),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
});

// Results of `npm run eval:context` recorded into a database, so savings can
// be reported at measured correctness (hit@1 of the latest run).
export const contextEvalRuns = pgTable(
  "context_eval_runs",
  {
    id: uuid("id").primaryKey(),
    projectId: uuid("project_id").references(() => projects.id, {
      onDelete: "cascade",
    }),
    cases: integer("cases").notNull(),
    hitAt1: real("hit_at_1").notNull(),
    mustContainRate: real("must_contain_rate").notNull(),
    results: jsonb("results").$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("context_eval_runs_project_idx").on(t.projectId, t.createdAt)],
);

// Words the corpus itself relates: a word of section headings (`term`)
// and a word that keeps appearing in the bodies under such headings
// (`related`), with the strength of the link. The indexer rebuilds a
// source's links after each run; a question's word with no good match
// may then reach a section through the heading words it relates to.
export const contextTermLinks = pgTable(
  "context_term_links",
  {
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    source: text("source").notNull(),
    term: text("term").notNull(),
    related: text("related").notNull(),
    weight: real("weight").notNull(),
    sections: integer("sections").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.source, t.term, t.related] }),
    index("context_term_links_related_idx").on(t.projectId, t.related),
  ],
);
