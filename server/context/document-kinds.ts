// Two kinds of document repeat the names of the features they touch and
// so, on words alone, compete with each feature's own page:
// - change documents (upgrade and migration guides, codemod lists,
//   changelogs, legacy pages) answer what changed, or how to move off
//   something old;
// - error documents (a folder of error and warning explanations, or
//   troubleshooting pages) answer what a message means and how to fix it.
// A third kind, preview documents, are those whose front matter declares
// a stage before stable (`version: experimental`, canary, beta...): an
// experimental variant of a feature (a Go route handler beside the
// JavaScript one) should not answer for the stable feature.
// A question that asks about none of these wants the feature's own page,
// so the ranking weighs such a document down unless the question asks
// about a change, reports an error, or names the stage. Pure: paths,
// titles, declared stages and question text.

import { sql, type SQL } from "drizzle-orm";
import { queryRows, type Database } from "@/db/client";

export type DocumentKind = "change" | "error" | "preview";

/** A path segment or title word that marks a document as being about a
 * change: upgrading, migrating, codemods, changelogs, legacy APIs,
 * release-numbered guides ("version-15"). */
const changePath =
  /(^|[/_-])(upgrad\w*|migrat\w*|codemods?|changelog|release-notes|legacy|deprecated|version-\d+)([/._-]|$)/i;
const changeTitle =
  /\b(upgrad\w*|migrat\w*|codemods?|changelog|release notes|legacy|deprecated|version \d+)\b/i;

/** A folder that holds error and warning explanations. */
const errorPath = /(^|\/)(errors?|messages|troubleshooting)\//i;

/** Release stages a document's front matter may declare (`version:
 * experimental`) for a feature not yet stable. */
const previewStage =
  /^(experimental|canary|unstable|beta|alpha|preview|draft)$/;

export function documentKind(
  path: string,
  title: string,
  stage = "",
): DocumentKind | null {
  if (changePath.test(path) || changeTitle.test(title)) return "change";
  if (stage === "legacy" || stage === "deprecated") return "change";
  if (errorPath.test(path)) return "error";
  if (previewStage.test(stage)) return "preview";

  return null;
}

/** Words that ask about a change: moving between versions or off an old
 * API, something renamed, removed or deprecated, a release number
 * ("v15", "version 14", "Next.js 16", "16.2"). "Which Node.js version"
 * names no release, so it asks about no change. */
const changeQuestion =
  /\b(upgrad\w*|migrat\w*|codemods?|changelog|legacy|deprecat\w*|breaking|renamed?|removed|old|older|previous(ly)?|anymore|no longer|used to|(switch\w*|mov\w+|coming) from|v\d+(\.\d+)*|(version|release|next|next\.?js|react) \d+|\d+\.\d+(\.\d+)?)\b/i;

/** Words that report something going wrong: an error, warning or
 * failure, something undefined, refused or missing, a status code. */
const errorQuestion =
  /\b(errors?|warn\w*|fail\w*|exceptions?|throw\w*|crash\w*|broken|breaks?|undefined|cannot|can't|won't|doesn't|isn't|not working|invalid|unexpected|mismatch\w*|problem|issue|bug|complain\w*|refus\w*|blocked|denied|missing|wrong|stuck|hang\w*|why|4\d\d|5\d\d)\b/i;

/** Words that ask about a feature not yet stable. */
const previewQuestion =
  /\b(experimental|canary|unstable|beta|alpha|preview|draft)\b/i;

/** The kinds of document the question asks for: a change document when it
 * asks about a change, an error document when it reports an error. */
export function askedKinds(question: string): Set<DocumentKind> {
  const kinds = new Set<DocumentKind>();
  if (changeQuestion.test(question)) kinds.add("change");
  if (errorQuestion.test(question)) kinds.add("error");
  if (previewQuestion.test(question)) kinds.add("preview");

  return kinds;
}

/** The top folders of the servable documents, and those of them whose
 * documents mostly repeat the paths (below the top folder) of a larger
 * top folder: pages/ beside app/, docs kept for two ways of doing the
 * same thing. A document directly in the root belongs to no folder. */
export async function topFolders(
  db: Database,
  projectId: string,
  servable: SQL,
): Promise<{ folders: string[]; shadowed: string[] }> {
  const rows = await queryRows<{ tree: string; shadowed: boolean }>(
    db,
    sql`with servable_documents as materialized (
          select split_part(d.path, '/', 1) as tree,
                 substr(d.path, strpos(d.path, '/') + 1) as rest
            from context_documents d
           where d.project_id = ${projectId} and ${servable}
             and d.path like '%/%'
        ),
        tree_sizes as (
          select tree, count(*) as n from servable_documents group by tree
        ),
        mirrored as (
          select a.tree, b.tree as mirror, count(*) as n
            from servable_documents a
            join servable_documents b on b.rest = a.rest and b.tree <> a.tree
           group by a.tree, b.tree
        )
        select t.tree, exists (
                 select 1 from mirrored m
                   join tree_sizes sb on sb.tree = m.mirror
                  where m.tree = t.tree and sb.n > t.n and m.n * 2 >= t.n
               ) as shadowed
          from tree_sizes t
         order by t.tree`,
  );

  return {
    folders: rows.map((r) => r.tree.toLowerCase()),
    shadowed: rows.filter((r) => r.shadowed).map((r) => r.tree),
  };
}
