import type { Command } from "commander";
import { runSimulation } from "../simulate/fleet";
import { formatSummary } from "../simulate/summary";
import { CliError, emit } from "../context";
import { callServer } from "./agent-client";

// `flotilla simulate`: a fleet of simulated agents driving a running
// console over HTTP, so there is something to watch and a realistic load.
// It never opens the database (the console may hold it).

interface SimulateOptions {
  project: string;
  agents: string;
  minutes: string;
  seed: string;
  url?: string;
  pace: string;
  json?: boolean;
}

function positive(value: string, option: string, max: number): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0 || parsed > max) {
    throw new CliError(`${option} must be a number above 0, at most ${max}`);
  }

  return parsed;
}

function serverUrl(option: string | undefined): string {
  const url = (
    option ??
    process.env.FLOTILLA_URL ??
    "http://localhost:3000"
  ).trim();
  if (!/^https?:\/\//.test(url)) {
    throw new CliError(
      `The URL must start with http:// or https:// (got '${url}')`,
    );
  }

  return url;
}

export function register(program: Command) {
  program
    .command("simulate")
    .description(
      "Run simulated agents (sim-1, sim-2, ...) against a running console",
    )
    .requiredOption("--project <slug>", "project the simulated agents join")
    .option("--agents <n>", "how many simulated agents", "3")
    .option("--minutes <m>", "how long to run", "2")
    .option(
      "--seed <n>",
      "random seed; the same seed makes the same choices",
      "1",
    )
    .option(
      "--url <url>",
      "console URL (default FLOTILLA_URL or localhost:3000)",
    )
    .option("--pace <ms>", "mean pause between an agent's steps", "1200")
    .option("--json", "print only the summary, as JSON")
    .action(async (options: SimulateOptions) => {
      const token = process.env.FLOTILLA_TOKEN?.trim();
      if (!token) {
        throw new CliError(
          "Set FLOTILLA_TOKEN to a personal access token of a project admin",
        );
      }
      const agents = positive(options.agents, "--agents", 50);
      if (!Number.isInteger(agents)) {
        throw new CliError("--agents must be a whole number");
      }
      const minutes = positive(options.minutes, "--minutes", 24 * 60);
      const seed = Number(options.seed);
      if (!Number.isInteger(seed)) {
        throw new CliError("--seed must be a whole number");
      }
      const url = serverUrl(options.url);
      const log = options.json
        ? () => {}
        : (line: string) => process.stdout.write(`${line}\n`);
      log(
        `Simulation: ${agents} simulated agents on project ${options.project} ` +
          `at ${url} for ${minutes} min (seed ${seed}). Nothing here is ` +
          "real work; Ctrl-C stops and releases held tasks.",
      );

      const stop = new AbortController();
      const onInterrupt = () => {
        log("Simulation: stopping, releasing held tasks...");
        stop.abort();
      };
      process.once("SIGINT", onInterrupt);
      try {
        const summary = await callServer(() =>
          runSimulation({
            url,
            token,
            project: options.project,
            agents,
            durationMs: minutes * 60_000,
            seed,
            paceMs: positive(options.pace, "--pace", 60_000),
            signal: stop.signal,
            log,
          }),
        );
        emit(options, summary, formatSummary(summary));
      } finally {
        process.off("SIGINT", onInterrupt);
      }
    });
}
