import { Command, CommanderError } from "commander";
import { describeFailure, type RegisterCommand } from "./context";

// Each command group lives in cli/commands/<group>.ts and exports a
// `register(program)` function; add it to this list.
const groups: Array<() => Promise<{ register: RegisterCommand }>> = [
  () => import("./commands/user"),
  () => import("./commands/project"),
  () => import("./commands/agent"),
  () => import("./commands/token"),
  () => import("./commands/goal"),
  () => import("./commands/task"),
  () => import("./commands/directive"),
  () => import("./commands/context"),
  () => import("./commands/hook"),
  () => import("./commands/work"),
  () => import("./commands/report"),
  () => import("./commands/ask"),
  () => import("./commands/connect"),
  () => import("./commands/simulate"),
];

export async function main(argv: string[]): Promise<number> {
  const program = new Command("flotilla")
    .description("Operate a Flotilla instance from the command line")
    .exitOverride();
  for (const load of groups) (await load()).register(program);
  try {
    await program.parseAsync(argv);

    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    const failure = describeFailure(error);
    const json = argv.includes("--json");
    if (json) {
      process.stderr.write(
        `${JSON.stringify({
          error: {
            code: failure.error?.code ?? "failed",
            message: failure.message,
            details: failure.error?.details ?? null,
          },
        })}\n`,
      );
    } else {
      process.stderr.write(`flotilla: ${failure.message}\n`);
    }

    return failure.code;
  }
}
