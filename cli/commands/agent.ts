import type { Command } from "commander";
import {
  createAgent,
  pauseAgent,
  resumeAgent,
  setAgentCapabilities,
} from "@/server/identity/agents";
import { cliActor, emit, withDatabase } from "../context";

// `flotilla agent create|pause|resume NAME --project SLUG` and
// `flotilla agent capabilities NAME a,b --project SLUG`.

interface AgentOptions {
  project: string;
  json?: boolean;
}

type CreateOptions = AgentOptions & {
  expiresDays?: string;
  capabilities?: string;
};

/** "a, b,c" as ["a", "b", "c"]; an empty list clears the tags. */
function tagList(text: string): string[] {
  return text
    .split(",")
    .map((tag) => tag.trim())
    .filter((tag) => tag !== "");
}
type PauseOptions = AgentOptions & { reason?: string };

export function register(program: Command) {
  const agent = program
    .command("agent")
    .description("Manage a project's agents");

  agent
    .command("create")
    .description("Create an agent and print its first token (shown once)")
    .argument("<name>", "agent name, unique in the project")
    .requiredOption("--project <slug>", "the project")
    .option("--expires-days <days>", "token expiry in days (default: never)")
    .option(
      "--capabilities <tags>",
      "comma-separated capability tags, e.g. typescript,migrations",
    )
    .option("--json", "print the result as JSON")
    .action(async (name: string, options: CreateOptions) => {
      const made = await withDatabase(({ db }) =>
        createAgent(db, cliActor, {
          project: options.project,
          name,
          expiresInDays:
            options.expiresDays === undefined
              ? undefined
              : Number(options.expiresDays),
          capabilities:
            options.capabilities === undefined
              ? undefined
              : tagList(options.capabilities),
        }),
      );
      emit(
        options,
        { agent: made.agent, token: made.token, secret: made.secret },
        [
          `Created agent ${made.agent.name} in ${options.project}.`,
          "Its token (shown once; store it now):",
          "",
          `  ${made.secret}`,
        ].join("\n"),
      );
    });

  agent
    .command("pause")
    .description("Pause an agent: its claims and tool calls are refused")
    .argument("<name>", "agent name")
    .requiredOption("--project <slug>", "the project")
    .option("--reason <reason>", "why, shown to the agent and in the audit log")
    .option("--json", "print the result as JSON")
    .action(async (name: string, options: PauseOptions) => {
      const paused = await withDatabase(({ db }) =>
        pauseAgent(db, cliActor, {
          project: options.project,
          agent: name,
          reason: options.reason,
        }),
      );
      emit(options, { agent: paused }, `Paused agent ${paused.name}`);
    });

  agent
    .command("resume")
    .description("Resume a paused agent")
    .argument("<name>", "agent name")
    .requiredOption("--project <slug>", "the project")
    .option("--json", "print the result as JSON")
    .action(async (name: string, options: AgentOptions) => {
      const resumed = await withDatabase(({ db }) =>
        resumeAgent(db, cliActor, { project: options.project, agent: name }),
      );
      emit(options, { agent: resumed }, `Resumed agent ${resumed.name}`);
    });

  agent
    .command("capabilities")
    .description("Replace an agent's capability tags")
    .argument("<name>", "agent name")
    .argument("<tags>", "comma-separated tags; an empty string clears them")
    .requiredOption("--project <slug>", "the project")
    .option("--json", "print the result as JSON")
    .action(async (name: string, tags: string, options: AgentOptions) => {
      const updated = await withDatabase(({ db }) =>
        setAgentCapabilities(db, cliActor, {
          project: options.project,
          agent: name,
          capabilities: tagList(tags),
        }),
      );
      const shown = updated.capabilities.join(", ") || "(none)";
      emit(
        options,
        { agent: updated },
        `Agent ${updated.name} capabilities: ${shown}`,
      );
    });
}
