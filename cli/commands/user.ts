import type { Command } from "commander";
import { createUser } from "@/server/identity/users";
import { cliActor, emit, withDatabase } from "../context";

// `flotilla user create`: makes a person who can sign in to the console.

export function register(program: Command) {
  const user = program.command("user").description("Manage console users");

  user
    .command("create")
    .description("Create a user who signs in with email and password")
    .requiredOption("--email <email>", "sign-in email")
    .requiredOption("--password <password>", "password, 8 characters or more")
    .option(
      "--role <role>",
      "instance role: admin, operator or viewer",
      "operator",
    )
    .option("--name <name>", "display name (default: part before the @)")
    .option("--json", "print the result as JSON")
    .action(
      async (options: {
        email: string;
        password: string;
        role: string;
        name?: string;
        json?: boolean;
      }) => {
        const created = await withDatabase(({ db }) =>
          createUser(db, cliActor, {
            email: options.email,
            password: options.password,
            role: options.role as "operator",
            name: options.name,
          }),
        );
        emit(
          options,
          { user: created },
          `Created ${created.role} ${created.email} (${created.id})`,
        );
      },
    );
}
