import { Option, type Command } from "commander";
import type { ContextResult } from "@/client";
import { contextTiers, type ContextTier } from "@/server/context/answer";
import { describeReadAs } from "@/server/context/read-as";
import { emit } from "../context";
import { agentClient, callServer } from "./agent-client";

// `flotilla context "question"`: the section of the project's docs that
// answers it, for shell-driven agents. It is the default subcommand of the
// `context` group (registered after it), so `flotilla context index` keeps
// its meaning; `flotilla context ask "index"` asks about the word itself.

interface AskOptions {
  json?: boolean;
  limit?: string;
  source?: string;
  includeStale?: boolean;
  tier?: ContextTier;
}

export function describeAnswer(answer: ContextResult): string {
  const others = answer.alternatives
    .map((other) => `  also: ${other.path}:${other.line} ${other.headingPath}`)
    .join("\n");
  const readAs = describeReadAs(answer.readAs);
  if (!answer.answered) {
    return [`No answer: ${answer.reason}`, readAs, others]
      .filter(Boolean)
      .join("\n");
  }
  const why = answer.statusReason ? `: ${answer.statusReason}` : "";
  const stale =
    answer.status === "canonical" ? "" : ` [${answer.status}${why}]`;
  const text = answer.text.trimEnd();

  return [
    `${answer.path}:${answer.line} ${answer.headingPath}${stale}`,
    ...(readAs ? [readAs] : []),
    ...(text ? ["", text] : []),
    ...(others ? ["", others] : []),
  ].join("\n");
}

export function register(program: Command) {
  const context =
    program.commands.find((command) => command.name() === "context") ??
    program.command("context").description("Project docs for agents");

  context
    .command("ask", { isDefault: true })
    .description(
      "Answer a question from the project's docs (FLOTILLA_URL, " +
        "FLOTILLA_TOKEN)",
    )
    .argument("<question>", "what you want to know")
    .option("--limit <n>", "the answer and up to n-1 alternatives (1-5)")
    .option("--source <name>", "only documents of this source")
    .option("--include-stale", "let stale or duplicate documents answer")
    .addOption(
      new Option(
        "--tier <tier>",
        "pointer (no text), section (default) or document (the whole file)",
      ).choices(contextTiers),
    )
    .option("--json", "print the answer as JSON")
    .action(async (question: string, options: AskOptions) => {
      const client = agentClient();
      const limit =
        options.limit === undefined ? undefined : Number(options.limit);
      const answer = await callServer(() =>
        client.context(question, {
          limit,
          source: options.source,
          includeStale: options.includeStale,
          tier: options.tier,
        }),
      );
      emit(options, answer, describeAnswer(answer));
    });
}
