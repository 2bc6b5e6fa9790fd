import type { Command } from "commander";
import { createPersonalToken } from "@/server/identity/personal-tokens";
import { revokeTokenByRef } from "@/server/identity/token-revoke";
import { cliActor, emit, withDatabase } from "../context";

// `flotilla token create --email E`: a personal access token for the read
// API, acting with that person's roles. `flotilla token revoke ID|PREFIX`:
// revokes an agent or personal token at once.

export function register(program: Command) {
  const token = program
    .command("token")
    .description("Manage personal access tokens and revoke any token");

  token
    .command("create")
    .description("Create a personal access token (shown once)")
    .requiredOption("--email <email>", "the person the token acts as")
    .option("--name <name>", "what the token is for", "cli token")
    .option("--expires-days <days>", "expiry in days (default: never)")
    .option("--json", "print the result as JSON")
    .action(
      async (options: {
        email: string;
        name: string;
        expiresDays?: string;
        json?: boolean;
      }) => {
        const made = await withDatabase(({ db }) =>
          createPersonalToken(db, cliActor, {
            email: options.email,
            name: options.name,
            expiresInDays:
              options.expiresDays === undefined
                ? undefined
                : Number(options.expiresDays),
          }),
        );
        emit(
          options,
          { token: made.token, email: made.email, secret: made.secret },
          [
            `Created personal token ${made.token.name} for ${made.email}.`,
            "The token (shown once; store it now):",
            "",
            `  ${made.secret}`,
          ].join("\n"),
        );
      },
    );

  token
    .command("revoke")
    .description(
      "Revoke an agent or personal token; its next request is refused",
    )
    .argument("<token>", "the token's id, its display prefix, or the token")
    .option("--json", "print the result as JSON")
    .action(async (ref: string, options: { json?: boolean }) => {
      const revoked = await withDatabase(({ db }) =>
        revokeTokenByRef(db, cliActor, { token: ref }),
      );
      emit(
        options,
        { token: revoked },
        `Revoked ${revoked.kind} token ${revoked.prefix}… (${revoked.name})`,
      );
    });
}
