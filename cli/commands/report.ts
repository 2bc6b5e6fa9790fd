import type { Command } from "commander";
import type { ReportResult } from "@/client";
import { CliError, emit } from "../context";
import { agentClient, callServer } from "./agent-client";
import { parseEventInput } from "./work";

// `flotilla report`: events for shell-driven agents, as a JSON array or a
// { source?, events } batch on stdin, sent in batches the server accepts.
// Items the server rejects are listed on stderr and make the exit code 2,
// so a script notices; the rest are stored.

const BATCH_EVENTS = 500;

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new CliError(
      "pipe the events on stdin, e.g. flotilla report < events.json",
      1,
    );
  }
  let text = "";
  process.stdin.setEncoding("utf8");
  for await (const chunk of process.stdin) text += chunk as string;

  return text;
}

export function register(program: Command) {
  program
    .command("report")
    .description(
      "Report events read from stdin: a JSON array or { events: [...] }",
    )
    .option("--json", "print the totals as JSON")
    .action(async (options: { json?: boolean }) => {
      const batch = parseEventInput(await readStdin());
      if (batch.events.length === 0) {
        throw new CliError("stdin holds no events", 1);
      }
      const client = agentClient();
      const total: ReportResult = {
        accepted: 0,
        duplicate: 0,
        rejected: 0,
        rejections: [],
      };
      for (let start = 0; start < batch.events.length; start += BATCH_EVENTS) {
        const events = batch.events.slice(start, start + BATCH_EVENTS);
        const result = await callServer(() =>
          client.reportEvents({ source: batch.source, events }),
        );
        total.accepted += result.accepted;
        total.duplicate += result.duplicate;
        total.rejected += result.rejected;
        // Positions in what the caller piped in, not in the batch.
        for (const rejection of result.rejections) {
          total.rejections.push({
            ...rejection,
            index: rejection.index + start,
          });
        }
      }
      emit(
        options,
        total,
        `Reported ${batch.events.length} event${batch.events.length === 1 ? "" : "s"}: ${total.accepted} accepted, ` +
          `${total.duplicate} duplicate, ${total.rejected} rejected`,
      );
      if (total.rejected > 0) {
        if (!options.json) {
          for (const { index, reason } of total.rejections) {
            process.stderr.write(`  event ${index}: ${reason}\n`);
          }
        }
        throw new CliError(
          `the server rejected ${total.rejected} of ${batch.events.length} ` +
            "events",
          2,
        );
      }
    });
}
