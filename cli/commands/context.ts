import type { Command } from "commander";
import {
  indexDirectory,
  type FileProblem,
  type IndexProgress,
  type IndexSummary,
} from "@/server/context";
import { cliActor, emit, withDatabase } from "../context";

// `flotilla context index DIR --project SLUG [--source NAME] [--version V]
// [--allow-empty]`: a progress bar on stderr when it is a terminal, a line
// every few seconds otherwise.

interface IndexOptions {
  project: string;
  source?: string;
  version?: string;
  allowEmpty?: boolean;
  json?: boolean;
}

const BAR_WIDTH = 30;
const LINE_INTERVAL_MS = 2000;

/** Reports progress on stderr; returns a function that ends the display. */
export function progressReporter(stream: NodeJS.WriteStream) {
  const started = performance.now();
  let lastLine = 0;
  let drawn = false;

  const report = (progress: IndexProgress) => {
    const { done, total } = progress;
    if (stream.isTTY) {
      const filled = total ? Math.round((done / total) * BAR_WIDTH) : BAR_WIDTH;
      const bar = "#".repeat(filled) + "-".repeat(BAR_WIDTH - filled);
      const name = progress.path.slice(-40);
      stream.write(`\r\x1b[2K[${bar}] ${done}/${total} ${name}`);
      drawn = true;

      return;
    }
    const elapsed = performance.now() - started;
    if (done === total || elapsed - lastLine >= LINE_INTERVAL_MS) {
      lastLine = elapsed;
      stream.write(`indexed ${done}/${total} files\n`);
    }
  };
  const finish = () => {
    if (drawn) stream.write("\r\x1b[2K");
  };

  return { report, finish };
}

function describeProblems(label: string, problems: FileProblem[]): string[] {
  if (problems.length === 0) return [];

  return [
    `${label} ${problems.length}:`,
    ...problems.map((p) => `  ${p.path}: ${p.problem}`),
  ];
}

export function describeSummary(summary: IndexSummary): string {
  return [
    `Indexed ${summary.source}${summary.version ? `@${summary.version}` : ""} into ${summary.project} in ` +
      `${(summary.durationMs / 1000).toFixed(1)} s:`,
    `  files seen  ${summary.filesSeen}`,
    `  indexed     ${summary.indexed} (${summary.sections} sections, ` +
      `${summary.tokens} tokens)`,
    `  unchanged   ${summary.unchanged}` +
      (summary.redated > 0 ? ` (${summary.redated} newly dated)` : ""),
    `  removed     ${summary.removed}` +
      (summary.removed > 0
        ? ` (documents whose files are no longer in the folder)`
        : ""),
    `  statuses    ${
      Object.entries(summary.statuses)
        .map(([status, n]) => `${n} ${status}`)
        .join(", ") || "none"
    }`,
    ...describeProblems("Skipped", summary.skipped),
    ...describeProblems("Warnings", summary.warnings),
  ].join("\n");
}

export function register(program: Command) {
  const context = program
    .command("context")
    .description("Index documents for agents' context lookups");

  context
    .command("index")
    .description(
      "Index a folder of markdown (.md, .mdx); unchanged files are skipped",
    )
    .argument("<dir>", "folder to index, recursively")
    .requiredOption("--project <slug>", "the project")
    .option("--source <name>", "source name (default: default)")
    .option(
      "--version <label>",
      "release of the source (e.g. 16.5.0); older releases become stale",
    )
    .option(
      "--allow-empty",
      "index a folder with no markdown files, removing every document of " +
        "the source (and version); refused without it",
    )
    .option("--json", "print the summary as JSON")
    .action(async (dir: string, options: IndexOptions) => {
      const progress = progressReporter(process.stderr);
      const summary = await withDatabase(({ db }) =>
        indexDirectory(
          db,
          cliActor,
          {
            project: options.project,
            dir,
            source: options.source,
            version: options.version,
            allowEmpty: options.allowEmpty ?? false,
          },
          progress.report,
        ),
      ).finally(progress.finish);
      emit(options, summary, describeSummary(summary));
    });
}
