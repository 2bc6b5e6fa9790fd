import path from "node:path";
import type { Command } from "commander";
import {
  checkConnectInput,
  ConnectFileError,
  ConnectInputError,
  connectClaudeCode,
  type ConnectReport,
} from "../connect/claude-code";
import { CliError, emit } from "../context";

// `flotilla connect claude-code`: points Claude Code in a repository at
// this console (MCP server, hooks, OpenTelemetry). It only writes files;
// it never opens the database or calls the server.

const cliEntry = path.resolve(import.meta.dirname, "..", "bin.mjs");

interface ConnectOptions {
  url?: string;
  tokenEnv?: string;
  dir: string;
  dryRun?: boolean;
  json?: boolean;
}

function describe(report: ConnectReport): string {
  const lines: string[] = [];
  const where = report.dir;
  if (!report.changed) {
    lines.push(
      `Nothing to change: Claude Code in ${where} already reports to ` +
        `${report.url} (token from $${report.tokenEnv}).`,
    );

    return lines.join("\n");
  }
  const verb = report.dryRun ? "Would connect" : "Connected";
  lines.push(
    `${verb} Claude Code in ${where} to ${report.url} ` +
      `(token from $${report.tokenEnv}; the token itself is never written).`,
  );
  for (const file of report.files) {
    const action = report.dryRun
      ? { created: "would create", updated: "would update" }[
          file.action as "created" | "updated"
        ]
      : file.action;
    const backup = file.backup
      ? report.dryRun
        ? ` (backup ${file.backup})`
        : `, backup ${file.backup}`
      : "";
    lines.push(`  ${file.file}: ${action ?? "unchanged"}${backup}`);
    for (const change of file.changes) lines.push(`    - ${change}`);
  }
  if (report.dryRun) lines.push("Dry run: no file was written.");
  lines.push("", "Before starting Claude Code:");
  for (const note of report.notes) lines.push(`  - ${note}`);

  return lines.join("\n");
}

export function register(program: Command) {
  const connect = program
    .command("connect")
    .description("Point an agent's configuration at this Flotilla console");

  connect
    .command("claude-code")
    .description(
      "Write Flotilla's MCP server (.mcp.json), hooks and telemetry " +
        "(.claude/settings.json) into a repository, keeping what is there",
    )
    .option("--url <url>", "the console's base URL, e.g. http://localhost:3000")
    .option(
      "--token-env <name>",
      "environment variable that holds the agent token (e.g. FLOTILLA_TOKEN)",
    )
    .option("--dir <dir>", "the repository to configure", ".")
    .option("--dry-run", "show what would change; write nothing")
    .option("--json", "print the result as JSON")
    .action((options: ConnectOptions) => {
      let input: { url: string; tokenEnv: string };
      try {
        input = checkConnectInput(options);
      } catch (error) {
        if (error instanceof ConnectInputError) {
          throw new CliError(error.message, 2);
        }
        throw error;
      }
      let report: ConnectReport;
      try {
        report = connectClaudeCode({
          dir: path.resolve(options.dir),
          settings: { ...input, cliEntry },
          dryRun: options.dryRun ?? false,
        });
      } catch (error) {
        if (error instanceof ConnectFileError) {
          throw new CliError(error.message, 2);
        }
        throw error;
      }
      emit(options, report, describe(report));
    });
}
