import type { Command } from "commander";
import { openDatabase, type DatabaseHandle } from "@/db/client";
import { DatabaseBusyError } from "@/db/lock";
import { config } from "@/server/config";
import { DomainError } from "@/server/errors";
import type { Actor } from "@/server/identity/actor";

// What every CLI command shares: opening the database the console uses,
// the CLI's identity, and printing results for people or for scripts.

export const cliActor: Actor = {
  kind: "cli",
  label: `cli:${process.env.USER ?? "local"}`,
};

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Opens the configured database for one command and closes it after. */
export async function withDatabase<T>(
  work: (handle: DatabaseHandle) => Promise<T>,
): Promise<T> {
  const settings = config();
  let handle: DatabaseHandle;
  try {
    handle = await openDatabase({
      url: settings.DATABASE_URL,
      dataDir: settings.DATABASE_URL ? undefined : settings.FLOTILLA_DATA_DIR,
      owner: "the flotilla CLI",
    });
  } catch (error) {
    if (error instanceof DatabaseBusyError) {
      throw new CliError(error.message, 3);
    }
    throw new CliError(
      `Could not open the database: ${(error as Error).message}`,
      3,
    );
  }
  try {
    return await work(handle);
  } finally {
    await handle.close();
  }
}

export interface OutputOptions {
  json?: boolean;
}

/** Prints `data` as JSON with --json, otherwise the human text. */
export function emit(options: OutputOptions, data: unknown, human: string) {
  if (options.json) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  else process.stdout.write(`${human}\n`);
}

export interface CliFailure {
  message: string;
  code: number;
  /** The domain error's code and field details, for --json output. */
  error?: { code: string; details: unknown };
}

/** Turns a thrown error into a message and exit code. */
export function describeFailure(error: unknown): CliFailure {
  if (error instanceof CliError) {
    return { message: error.message, code: error.exitCode };
  }
  if (error instanceof DomainError) {
    // The message already summarises the first field issues; list them only
    // when it does not.
    const issues = Array.isArray(error.details) ? error.details : [];
    const unsaid = issues.filter((d) => !error.message.includes(d.message));
    const lines = unsaid.map((d) => `\n  ${d.path}: ${d.message}`).join("");

    return {
      message: `${error.message}${lines}`,
      code: 2,
      error: { code: error.code, details: error.details ?? null },
    };
  }

  return { message: (error as Error)?.message ?? String(error), code: 1 };
}

export type RegisterCommand = (program: Command) => void;
