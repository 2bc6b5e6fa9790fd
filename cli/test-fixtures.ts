import { spawn } from "node:child_process";
import path from "node:path";
import { expect } from "vitest";

// For the CLI's tests: `flotilla` run as a user runs it, a separate process
// on the embedded database in `dataDir` (never DATABASE_URL).

const root = path.resolve(import.meta.dirname, "..");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `flotilla ...args`; rejects if it has not exited after
 * `timeoutMs`. */
export function flotilla(
  dataDir: string,
  args: string[],
  timeoutMs = 60_000,
): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, FLOTILLA_DATA_DIR: dataDir };
  delete env.DATABASE_URL;

  return new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, ["cli/bin.mjs", ...args], {
      cwd: root,
      env,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`flotilla ${args.join(" ")} hung: ${stderr}`));
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A successful run's --json output. */
export function json<T>(run: Run): T {
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);

  return JSON.parse(run.stdout) as T;
}
