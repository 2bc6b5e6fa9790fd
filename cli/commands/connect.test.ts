import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// `flotilla connect claude-code` run as a user runs it: a separate process
// that only reads and writes files (it never opens a database).

const root = path.resolve(import.meta.dirname, "..", "..");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function flotilla(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["cli/bin.mjs", ...args], {
      cwd: root,
      env: { ...process.env, FLOTILLA_TOKEN: "flt_secret_never_written" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`flotilla ${args.join(" ")} hung: ${stderr}`));
    }, 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("flotilla connect claude-code", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-connect-cli-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const connect = (...extra: string[]) =>
    flotilla(["connect", "claude-code", "--dir", dir, ...extra]);

  it("refuses a bad URL or a missing --token-env with exit code 2", async () => {
    const url = await connect("--url", "localhost:3000", "--token-env", "T");
    expect(url.code).toBe(2);
    expect(url.stderr).toBe(
      "flotilla: --url must be an http:// or https:// URL " +
        "(got 'localhost:3000')\n",
    );

    const token = await connect("--url", "http://localhost:3000");
    expect(token.code).toBe(2);
    expect(token.stderr).toContain("--token-env is required");
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("connects, then finds nothing to change, with --json", async () => {
    const args = ["--url", "http://127.0.0.1:3000", "--token-env"];
    const first = await connect(...args, "FLOTILLA_TOKEN", "--json");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout) as {
      changed: boolean;
      files: { file: string; action: string }[];
    };
    expect(report.changed).toBe(true);
    expect(report.files.map((f) => f.action)).toEqual(["created", "created"]);
    const written = ["/.mcp.json", "/.claude/settings.json"]
      .map((file) => fs.readFileSync(dir + file, "utf8"))
      .join("");
    expect(written).not.toContain("flt_secret_never_written");
    // The transcript hook runs this checkout's CLI.
    expect(written).toContain(path.join(root, "cli", "bin.mjs"));

    const second = await connect(...args, "FLOTILLA_TOKEN");
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^Nothing to change: /);
  });

  it("names malformed JSON and exits 2 without touching it", async () => {
    const file = path.join(dir, ".mcp.json");
    fs.writeFileSync(file, "{ nope");
    const run = await connect(
      "--url",
      "http://127.0.0.1:3000",
      "--token-env",
      "FLOTILLA_TOKEN",
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^flotilla: \.mcp\.json is not valid JSON/);
    expect(fs.readFileSync(file, "utf8")).toBe("{ nope");
  });
});
