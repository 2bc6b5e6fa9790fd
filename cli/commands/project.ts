import type { Command } from "commander";
import { createProject } from "@/server/identity/projects";
import { cliActor, emit, withDatabase } from "../context";

// `flotilla project create SLUG`.

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
}
