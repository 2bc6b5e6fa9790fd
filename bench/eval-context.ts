// Context eval: indexes a docs corpus, asks every question of a cases file
// through the agent HTTP API and prints JSON with hit rates, abstention,
// stale answers, token savings and latency.
//
//   npm run eval:context -- --cases FILE --corpus DIR [--stale-corpus DIR]
//     [--verbose] [--record [--project SLUG]]
//
// With --stale-corpus the older corpus is indexed as an older version of
// the same source (versions read from the folder names, e.g.
// nextjs-docs-16.2.0), so its documents become stale copies.
//
// The index lives in a scratch database: an in-memory PGlite, or
// DATABASE_URL when set (a scratch project is created there and deleted
// afterwards). Questions go to GET /api/agent/v1/context, the route
// handler served on a loopback port with an agent token, so latency
// includes authentication, validation and JSON, as an agent sees it.
//
// --record stores the run in context_eval_runs of the app's own database
// (DATABASE_URL, else the PGlite data directory the app uses), without a
// project (instance-wide) or for --project SLUG; the savings ledger then
// reports savings at this run's hit@1.
//
// Definitions (answerable = the case has a gold_path):
// - a served section "is a hit" when its path equals gold_path and its
//   heading equals gold_heading without the leading #s, or it equals one
//   of the case's `acceptable` {path, heading} pairs;
// - hitAt1: answerable cases whose served section is a hit;
// - goldAt1: answerable cases whose served section is the gold one itself;
// - hitAt3: a hit among the served section and the first two alternatives;
// - mrrAt5: mean over answerable cases of 1/rank of the first hit among
//   the served section and its alternatives (5 in all), 0 when none is;
// - mustContainRate: answerable cases whose served text contains every
//   must_contain string (exact, case-sensitive);
// - abstainAccuracy: unanswerable cases answered "no answer";
//   falseAbstentions: answerable cases answered "no answer";
// - staleServed: share of answered cases whose section is not canonical
//   (default search, as agents ask); staleOverCurrent: each answerable
//   question asked again with include_stale, counting cases where a stale
//   section was served although the default search served a hit;
// - tokensVsDocument / tokensVsTop3: per answered answerable case, served
//   tokens over the whole document's tokens and over the three best
//   distinct documents' tokens; median and p95;
// - latencyP50Ms / latencyP95Ms: wall time of the HTTP request (default
//   search only), after 20 untimed warm-up questions (document titles)
//   and the latent spaces ready (server/context/latent.ts);
// - indexSeconds: indexing both corpora.
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { eq, sql } from "drizzle-orm";
import { openDatabase, queryRows, type Database } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { contextEvalRuns, projects } from "@/db/schema";
import { startLoopbackServer } from "@/client/testing";
import { config } from "@/server/config";
import type { Actor } from "@/server/identity/actor";
import { createAgent } from "@/server/identity/agents";
import { findProject } from "@/server/identity/access";
import { newId, now } from "@/server/runtime";
import type { ContextResult, SectionPointer } from "@/server/context/answer";
import { indexDirectory } from "@/server/context/indexer";
import { latentSpacesReady } from "@/server/context/latent";
import { loadThesaurus } from "@/server/context/thesaurus";
import { flushActivity } from "@/server/observability/activity";

const caseSchema = z.object({
  id: z.string(),
  question: z.string(),
  category: z.string(),
  gold_path: z.string().nullable().optional(),
  gold_heading: z.string().nullable().optional(),
  gold_line: z.number().nullable().optional(),
  acceptable: z
    .array(z.object({ path: z.string(), heading: z.string() }))
    .default([]),
  must_contain: z.array(z.string()).default([]),
});
type EvalCase = z.infer<typeof caseSchema>;

interface Asked {
  c: EvalCase;
  result: ContextResult;
  ms: number;
  /** The same question with include_stale (answerable cases only). */
  withStale: ContextResult | null;
}

/** Untimed questions asked before the cases (see askAll). */
const WARM_UP_QUESTIONS = 20;

const bareHeading = (heading: string) => heading.replace(/^#+\s*/, "").trim();

function matches(
  target: { path: string; heading: string },
  pointer: { path: string; heading: string },
) {
  return (
    target.path === pointer.path &&
    bareHeading(target.heading) === bareHeading(pointer.heading)
  );
}

function isGold(c: EvalCase, pointer: SectionPointer | undefined): boolean {
  if (!pointer || !c.gold_path) return false;

  return matches({ path: c.gold_path, heading: c.gold_heading ?? "" }, pointer);
}

function isHit(c: EvalCase, pointer: SectionPointer | undefined): boolean {
  if (!pointer || !c.gold_path) return false;

  return isGold(c, pointer) || c.acceptable.some((t) => matches(t, pointer));
}

/** The release a corpus folder is of, from its name (docs-16.5.0). */
function versionOf(dir: string, fallback: string): string {
  const match = /(\d+(?:\.\d+)+)\/?$/.exec(path.basename(dir));

  return match ? match[1] : fallback;
}

const round = (n: number, digits = 3) =>
  Math.round(n * 10 ** digits) / 10 ** digits;
const sum = (ns: number[]) => ns.reduce((a, b) => a + b, 0);

/** The value at quantile q (0..1) of the numbers, nearest rank. */
function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(0, Math.ceil(q * sorted.length) - 1);

  return sorted[Math.min(sorted.length - 1, rank)];
}

const ranked = (result: ContextResult): SectionPointer[] =>
  [...(result.answered ? [result] : []), ...result.alternatives].slice(0, 5);

/** Every figure the issue names, over a set of asked questions. */
function figures(rows: Asked[], indexSeconds: number) {
  const answerable = rows.filter((r) => r.c.gold_path);
  const unanswerable = rows.filter((r) => !r.c.gold_path);
  const share = (list: Asked[], test: (r: Asked) => boolean) =>
    list.length ? round(list.filter(test).length / list.length) : null;
  const hitAt1 = (r: Asked) => r.result.answered && isHit(r.c, r.result);
  const containsAll = (r: Asked) =>
    r.result.answered &&
    r.c.must_contain.length > 0 &&
    r.c.must_contain.every((s) =>
      r.result.answered ? r.result.text.includes(s) : false,
    );
  const reciprocalRank = (r: Asked) => {
    const rank = ranked(r.result).findIndex((p) => isHit(r.c, p));

    return rank < 0 ? 0 : 1 / (rank + 1);
  };
  const stale = (result: ContextResult | null) =>
    Boolean(result?.answered && result.status !== "canonical");
  const served = answerable.flatMap((r) =>
    r.result.answered ? [r.result] : [],
  );
  const toDocument = served.map((s) => s.servedTokens / s.documentTokens);
  const toTop3 = served.map((s) => s.servedTokens / s.top3Tokens);
  const ms = rows.map((r) => r.ms);
  const maybe = (n: number | null, digits = 3) =>
    n === null ? null : round(n, digits);

  return {
    cases: rows.length,
    answerable: answerable.length,
    unanswerable: unanswerable.length,
    hitAt1: share(answerable, hitAt1),
    goldAt1: share(
      answerable,
      (r) => r.result.answered && isGold(r.c, r.result),
    ),
    hitAt3: share(answerable, (r) =>
      ranked(r.result)
        .slice(0, 3)
        .some((p) => isHit(r.c, p)),
    ),
    mrrAt5: answerable.length
      ? round(sum(answerable.map(reciprocalRank)) / answerable.length)
      : null,
    mustContainRate: share(answerable, containsAll),
    abstainAccuracy: share(unanswerable, (r) => !r.result.answered),
    falseAbstentions: answerable.filter((r) => !r.result.answered).length,
    staleServed: share(
      rows.filter((r) => r.result.answered),
      (r) => stale(r.result),
    ),
    staleOverCurrent: answerable.filter((r) => hitAt1(r) && stale(r.withStale))
      .length,
    tokensVsDocumentMedian: maybe(quantile(toDocument, 0.5)),
    tokensVsDocumentP95: maybe(quantile(toDocument, 0.95)),
    tokensVsTop3Median: maybe(quantile(toTop3, 0.5)),
    tokensVsTop3P95: maybe(quantile(toTop3, 0.95)),
    medianServedTokens: quantile(
      served.map((s) => s.servedTokens),
      0.5,
    ),
    latencyP50Ms: maybe(quantile(ms, 0.5), 1),
    latencyP95Ms: maybe(quantile(ms, 0.95), 1),
    indexSeconds,
  };
}

/** The app's own database, where --record writes the run. */
async function recordRun(
  projectSlug: string | undefined,
  report: ReturnType<typeof figures> & Record<string, unknown>,
) {
  const settings = config();
  const handle = await openDatabase({
    url: settings.DATABASE_URL,
    dataDir: settings.DATABASE_URL ? undefined : settings.FLOTILLA_DATA_DIR,
    owner: "eval-context --record",
  });
  try {
    const project = projectSlug
      ? await findProject(handle.db, projectSlug)
      : null;
    if (projectSlug && !project) {
      throw new Error(`--project ${projectSlug}: no such project`);
    }
    const id = newId();
    await handle.db.insert(contextEvalRuns).values({
      id,
      projectId: project?.id ?? null,
      cases: report.cases,
      hitAt1: report.hitAt1 ?? 0,
      mustContainRate: report.mustContainRate ?? 0,
      results: report,
      createdAt: now(),
    });

    return { id, project: project?.slug ?? null, database: handle.location };
  } finally {
    await handle.close();
  }
}

async function askAll(
  db: Database,
  slug: string,
  cases: EvalCase[],
): Promise<Asked[]> {
  const admin: Actor = { kind: "cli", label: "eval-context" };
  const { secret } = await createAgent(db, admin, {
    project: slug,
    name: "eval-agent",
  });
  const server = await startLoopbackServer();
  const ask = async (question: string, includeStale: boolean) => {
    const url = new URL("/api/agent/v1/context", server.url);
    url.searchParams.set("q", question);
    url.searchParams.set("limit", "4");
    if (includeStale) url.searchParams.set("include_stale", "true");
    const started = performance.now();
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${secret}` },
    });
    const body = (await response.json()) as ContextResult;
    const ms = performance.now() - started;
    if (!response.ok) {
      throw new Error(`${response.status} ${JSON.stringify(body)}`);
    }

    return { body, ms };
  };
  try {
    // Warm-up, untimed: a server that has answered a few questions before,
    // not a cold one (PGlite's WebAssembly runs several times slower until
    // the engine has compiled its hot paths). The warm-up asks for document
    // titles, none of the cases' questions.
    const titles = await queryRows<{ title: string }>(
      db,
      sql`select d.title from context_documents d
            join projects p on p.id = d.project_id
           where p.slug = ${slug} and d.status = 'canonical'
           order by d.path limit ${WARM_UP_QUESTIONS}`,
    );
    for (const { title } of titles) await ask(title, false);
    // The latent spaces of both document sets (current, and with stale
    // copies) are computed in the background on their first lookup; the
    // questions are asked of a ready index, as a running server has one.
    if (titles[0]) await ask(titles[0].title, true);
    await latentSpacesReady();
    // As the console does at boot.
    await loadThesaurus();
    const rows: Asked[] = [];
    for (const c of cases) {
      const { body, ms } = await ask(c.question, false);
      const withStale = c.gold_path ? (await ask(c.question, true)).body : null;
      rows.push({ c, result: body, ms, withStale });
    }

    return rows;
  } finally {
    await server.close();
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      cases: { type: "string" },
      corpus: { type: "string" },
      "stale-corpus": { type: "string" },
      verbose: { type: "boolean", default: false },
      record: { type: "boolean", default: false },
      project: { type: "string" },
    },
  });
  if (!values.cases || !values.corpus) {
    throw new Error("usage: eval-context --cases FILE --corpus DIR");
  }
  const cases = fs
    .readFileSync(values.cases, "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => caseSchema.parse(JSON.parse(line)));

  const handle = await openDatabase({ url: process.env.DATABASE_URL });
  useDatabase(handle);
  const actor: Actor = { kind: "cli", label: "eval-context" };
  const projectId = newId();
  const slug = `eval-${projectId.slice(0, 8)}`;
  await handle.db
    .insert(projects)
    .values({ id: projectId, slug, name: "Context eval", createdAt: now() });
  try {
    const staleCorpus = values["stale-corpus"];
    // Unversioned without a stale corpus, as before; otherwise both
    // corpora are releases of one source.
    const source = "docs";
    const version = staleCorpus ? versionOf(values.corpus, "2") : "";
    const olderSummary = staleCorpus
      ? await indexDirectory(handle.db, actor, {
          project: slug,
          dir: path.resolve(staleCorpus),
          source,
          version: versionOf(staleCorpus, "1"),
        })
      : null;
    const summary = await indexDirectory(handle.db, actor, {
      project: slug,
      dir: path.resolve(values.corpus),
      source,
      version,
    });
    const indexSeconds = round(
      (summary.durationMs + (olderSummary?.durationMs ?? 0)) / 1000,
      2,
    );

    const rows = await askAll(handle.db, slug, cases);
    const categories = [...new Set(rows.map((r) => r.c.category))];
    const report = {
      ...figures(rows, indexSeconds),
      indexed: {
        files: summary.filesSeen,
        sections: summary.sections,
        tokens: summary.tokens,
        statuses: summary.statuses,
      },
      ...(olderSummary
        ? {
            staleIndexed: {
              version: olderSummary.version,
              files: olderSummary.filesSeen,
              sections: olderSummary.sections,
            },
          }
        : {}),
      database: handle.kind,
      byCategory: Object.fromEntries(
        categories.map((category) => [
          category,
          figures(
            rows.filter((r) => r.c.category === category),
            indexSeconds,
          ),
        ]),
      ),
    };
    if (values.verbose) {
      for (const r of rows) {
        const mark = r.c.gold_path
          ? r.result.answered && isHit(r.c, r.result)
            ? "HIT "
            : ranked(r.result).some((p) => isHit(r.c, p))
              ? "ALT "
              : "MISS"
          : r.result.answered
            ? "FALS"
            : "ABST";
        const got = r.result.answered
          ? `${r.result.path} # ${r.result.heading} (${r.result.score}, cov ${r.result.coverage}, ${r.result.status})`
          : `no answer: ${r.result.reason}`;
        process.stderr.write(
          `${mark} ${r.c.id} ${Math.round(r.ms)}ms ${r.c.question}\n` +
            `     got  ${got}\n` +
            (r.c.gold_path
              ? `     gold ${r.c.gold_path} ${r.c.gold_heading}\n`
              : "") +
            r.result.alternatives
              .map((a) => `     alt  ${a.path} # ${a.heading} (${a.score})\n`)
              .join(""),
        );
      }
    }
    const recorded = values.record
      ? await recordRun(values.project, report)
      : null;
    process.stdout.write(
      `${JSON.stringify(recorded ? { ...report, recorded } : report, null, 2)}\n`,
    );
  } finally {
    // Lookups queue session-trace events; write them before the scratch
    // database goes away.
    await flushActivity();
    useDatabase(null);
    // On a shared PostgreSQL, remove the scratch project and its documents.
    if (handle.kind === "postgres") {
      await handle.db.delete(projects).where(eq(projects.id, projectId));
    }
    await handle.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`eval-context: ${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
