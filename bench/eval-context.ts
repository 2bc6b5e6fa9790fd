// Context eval: indexes a docs corpus, asks every question of a cases file
// and prints JSON with hit rates, abstention and token savings.
//
//   npm run eval:context -- --cases FILE --corpus DIR [--stale-corpus DIR]
//     [--verbose]
//
// With --stale-corpus the older corpus is indexed as an older version of
// the same source (versions read from the folder names, e.g.
// nextjs-docs-16.2.0), so its documents become stale copies.
//
// Opens an in-memory PGlite database, or DATABASE_URL when set (a scratch
// project is created there and deleted afterwards).
//
// Definitions (answerable = the case has a gold_path):
// - a served section "is gold" when its path equals gold_path and its
//   heading equals gold_heading without the leading #s, or it equals one of
//   the case's `acceptable` {path, heading} pairs;
// - hitAt1: answerable cases whose served section is gold, or whose served
//   text contains every `must_contain` string (exact, case-sensitive);
// - goldAt1: the stricter half of that: served section is gold;
// - hitAt3: gold among the served section and the first two alternatives,
//   or a hitAt1;
// - mustContainRate: answerable cases whose served text contains every
//   must_contain string;
// - mrrAt5: mean over answerable cases of 1/rank of the first gold
//   section among the served one and its alternatives (5 in all), 0 when
//   none is gold;
// - staleServed: share of answered cases whose section is not canonical;
// - abstainAccuracy: unanswerable cases answered "no answer";
// - falseAbstentions: answerable cases answered "no answer";
// - token figures are over answered answerable cases: served section
//   tokens, whole-file tokens, and the ratio of their sums.
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { openDatabase } from "@/db/client";
import { projects } from "@/db/schema";
import { eq } from "drizzle-orm";
import type { Actor } from "@/server/identity/actor";
import { newId, now } from "@/server/runtime";
import { answerQuestion, type ContextResult } from "@/server/context/answer";
import { indexDirectory } from "@/server/context/indexer";

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

const bareHeading = (heading: string) => heading.replace(/^#+\s*/, "").trim();

function isGold(
  c: EvalCase,
  pointer: { path: string; heading: string } | undefined,
): boolean {
  if (!pointer || !c.gold_path) return false;
  const targets = [
    { path: c.gold_path, heading: c.gold_heading ?? "" },
    ...c.acceptable,
  ];

  return targets.some(
    (t) =>
      t.path === pointer.path &&
      bareHeading(t.heading) === bareHeading(pointer.heading),
  );
}

/** The release a corpus folder is of, from its name (docs-16.5.0). */
function versionOf(dir: string, fallback: string): string {
  const match = /(\d+(?:\.\d+)+)\/?$/.exec(path.basename(dir));

  return match ? match[1] : fallback;
}

const round = (n: number, digits = 3) =>
  Math.round(n * 10 ** digits) / 10 ** digits;

async function main() {
  const { values } = parseArgs({
    options: {
      cases: { type: "string" },
      corpus: { type: "string" },
      "stale-corpus": { type: "string" },
      verbose: { type: "boolean", default: false },
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

    const rows: Array<{ c: EvalCase; result: ContextResult; ms: number }> = [];
    for (const c of cases) {
      const started = performance.now();
      const result = await answerQuestion(handle.db, actor, {
        project: slug,
        q: c.question,
        limit: 5,
      });
      rows.push({ c, result, ms: performance.now() - started });
    }

    const answerable = rows.filter((r) => r.c.gold_path);
    const unanswerable = rows.filter((r) => !r.c.gold_path);
    const containsAll = (r: (typeof rows)[number]) =>
      r.result.answered &&
      r.c.must_contain.length > 0 &&
      r.c.must_contain.every((s) =>
        r.result.answered ? r.result.text.includes(s) : false,
      );
    const goldAt1 = (r: (typeof rows)[number]) =>
      r.result.answered && isGold(r.c, r.result);
    const hitAt1 = (r: (typeof rows)[number]) => goldAt1(r) || containsAll(r);
    const hitAt3 = (r: (typeof rows)[number]) =>
      hitAt1(r) ||
      [...(r.result.answered ? [r.result] : []), ...r.result.alternatives]
        .slice(0, 3)
        .some((p) => isGold(r.c, p));
    const reciprocalRank = (r: (typeof rows)[number]) => {
      const ranked = [
        ...(r.result.answered ? [r.result] : []),
        ...r.result.alternatives,
      ].slice(0, 5);
      const rank = ranked.findIndex((p) => isGold(r.c, p));

      return rank < 0 ? 0 : 1 / (rank + 1);
    };
    const staleAnswer = (r: (typeof rows)[number]) =>
      r.result.answered && r.result.status !== "canonical";
    const served = answerable.flatMap((r) =>
      r.result.answered ? [r.result] : [],
    );
    const sum = (ns: number[]) => ns.reduce((a, b) => a + b, 0);
    const share = (
      list: typeof rows,
      test: (r: (typeof rows)[number]) => boolean,
    ) => (list.length ? round(list.filter(test).length / list.length) : null);

    const categories = [...new Set(rows.map((r) => r.c.category))];
    const byCategory = Object.fromEntries(
      categories.map((category) => {
        const inCategory = rows.filter((r) => r.c.category === category);
        const asked = inCategory.filter((r) => r.c.gold_path);

        return [
          category,
          asked.length
            ? {
                cases: asked.length,
                hitAt1: share(asked, hitAt1),
                mrrAt5: round(sum(asked.map(reciprocalRank)) / asked.length),
                staleServed: share(asked, staleAnswer),
              }
            : {
                cases: inCategory.length,
                abstainAccuracy: share(inCategory, (r) => !r.result.answered),
              },
        ];
      }),
    );
    const latencies = rows.map((r) => r.ms).sort((a, b) => a - b);
    const report = {
      cases: rows.length,
      answerable: answerable.length,
      unanswerable: unanswerable.length,
      hitAt1: share(answerable, hitAt1),
      goldAt1: share(answerable, goldAt1),
      hitAt3: share(answerable, hitAt3),
      mrrAt5: answerable.length
        ? round(sum(answerable.map(reciprocalRank)) / answerable.length)
        : null,
      staleServed: share(
        rows.filter((r) => r.result.answered),
        staleAnswer,
      ),
      staleServedCount: rows.filter(staleAnswer).length,
      mustContainRate: share(answerable, containsAll),
      abstainAccuracy: share(unanswerable, (r) => !r.result.answered),
      falseAbstentions: answerable.filter((r) => !r.result.answered).length,
      meanServedTokens: served.length
        ? round(sum(served.map((s) => s.tokens)) / served.length, 1)
        : null,
      meanDocumentTokens: served.length
        ? round(sum(served.map((s) => s.documentTokens)) / served.length, 1)
        : null,
      servedToDocumentRatio: served.length
        ? round(
            sum(served.map((s) => s.tokens)) /
              sum(served.map((s) => s.documentTokens)),
          )
        : null,
      latencyP50Ms: round(latencies[Math.floor(latencies.length / 2)] ?? 0, 1),
      latencyP95Ms: round(
        latencies[
          Math.min(latencies.length - 1, Math.floor(latencies.length * 0.95))
        ] ?? 0,
        1,
      ),
      indexSeconds: round(
        (summary.durationMs + (olderSummary?.durationMs ?? 0)) / 1000,
        2,
      ),
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
      byCategory,
    };
    if (values.verbose) {
      for (const r of rows) {
        const mark = r.c.gold_path
          ? hitAt1(r)
            ? goldAt1(r)
              ? "HIT "
              : "MC  "
            : hitAt3(r)
              ? "TOP3"
              : "MISS"
          : r.result.answered
            ? "FALS"
            : "ABST";
        const got = r.result.answered
          ? `${r.result.path} # ${r.result.heading} (${r.result.score}, cov ${r.result.coverage}, ${r.result.status})`
          : `no answer: ${r.result.reason}`;
        process.stderr.write(
          `${mark} ${r.c.id} ${r.c.question}\n     got  ${got}\n` +
            (r.c.gold_path
              ? `     gold ${r.c.gold_path} ${r.c.gold_heading}\n`
              : "") +
            r.result.alternatives
              .map((a) => `     alt  ${a.path} # ${a.heading} (${a.score})\n`)
              .join(""),
        );
      }
    }
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
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
