import { FlotillaApiError, FlotillaClient } from "@/client";
import { DomainError, errorTable, type ErrorCode } from "@/server/errors";
import { CliError } from "../context";

// What the agent-side commands share: a typed client configured from the
// environment, and server answers turned into the CLI's exit codes (2 when
// the server refused, 3 when it could not be reached or failed itself).
// These commands are HTTP clients; they never open the database.

export function agentClient(): FlotillaClient {
  const url = process.env.FLOTILLA_URL?.trim();
  const token = process.env.FLOTILLA_TOKEN?.trim();
  const missing = [
    ...(url ? [] : ["FLOTILLA_URL (e.g. http://localhost:3000)"]),
    ...(token ? [] : ["FLOTILLA_TOKEN (the agent's token, flt_...)"]),
  ];
  if (!url || !token) {
    throw new CliError(`Set ${missing.join(" and ")} in the environment`, 1);
  }
  if (!/^https?:\/\//.test(url)) {
    throw new CliError(
      `FLOTILLA_URL must start with http:// or https:// (got '${url}')`,
      1,
    );
  }

  return new FlotillaClient({ url, token });
}

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(errorTable, code);
}

/** Runs one API call, mapping the client's errors to CLI failures. */
export async function callServer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof FlotillaApiError)) throw error;
    if (error.unreachable) {
      const status = error.status ? ` (HTTP ${error.status})` : "";
      throw new CliError(`${error.message}${status}`, 3);
    }
    if (!isErrorCode(error.code)) throw new CliError(error.message, 2);
    // The server's own code and field issues, as the CLI reports any
    // refusal (exit 2; with --json, the error envelope on stderr).
    throw new DomainError(
      error.code,
      error.message,
      error.details as ConstructorParameters<typeof DomainError>[2],
    );
  }
}
