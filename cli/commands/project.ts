import type { Command } from "commander";
import {
  pauseProject,
  resumeProject,
  type ProjectPauseState,
} from "@/server/guardrails/kill-switch";
import { createProject } from "@/server/identity/projects";
import { cliActor, emit, withDatabase } from "../context";

// `flotilla project create SLUG` and the kill switch:
// `flotilla project pause SLUG --reason R`, `flotilla project resume SLUG`.

function pauseLine(slug: string, state: ProjectPauseState): string {
  return state.paused
    ? `Project ${slug} is paused: every claim and tool call is refused ` +
        `(${state.reason})`
    : `Project ${slug} is active`;
}

interface ProjectOptions {
  name?: string;
  json?: boolean;
}

export function register(program: Command) {
  const project = program.command("project").description("Manage projects");

  project
    .command("create")
    .description("Create a project")
    .argument("<slug>", "lowercase letters, digits and dashes, 2-40 chars")
    .option("--name <name>", "display name (default: the slug)")
    .option("--json", "print the result as JSON")
    .action(async (slug: string, options: ProjectOptions) => {
      const created = await withDatabase(({ db }) =>
        createProject(db, cliActor, { slug, name: options.name }),
      );
      emit(
        options,
        { project: created },
        `Created project ${created.slug} (${created.name})`,
      );
    });

  project
    .command("pause")
    .description(
      "Kill switch: refuse every claim and tool call in the project at once",
    )
    .argument("<slug>", "the project")
    .requiredOption("--reason <reason>", "why; agents are told this reason")
    .option("--json", "print the result as JSON")
    .action(
      async (slug: string, options: { reason: string; json?: boolean }) => {
        const state = await withDatabase(({ db }) =>
          pauseProject(db, cliActor, { project: slug, reason: options.reason }),
        );
        emit(options, { project: slug, ...state }, pauseLine(slug, state));
      },
    );

  project
    .command("resume")
    .description(
      "Lift the kill switch: claims and tool calls are decided again",
    )
    .argument("<slug>", "the project")
    .option("--json", "print the result as JSON")
    .action(async (slug: string, options: { json?: boolean }) => {
      const state = await withDatabase(({ db }) =>
        resumeProject(db, cliActor, { project: slug }),
      );
      emit(options, { project: slug, ...state }, pauseLine(slug, state));
    });
}
