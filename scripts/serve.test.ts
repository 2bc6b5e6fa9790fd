import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";

// How the console's server (`npm start` runs it) fails before it serves
// anything: a clear line and an exit code, never a hang or a stack trace.

const serve = path.join(import.meta.dirname, "serve.mjs");

function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [serve, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => (stderr += chunk));
    // A server that hangs instead of failing is stopped and shows as null.
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe("the console's server", () => {
  it("exits with one clear line when its port is taken", async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) =>
      holder.listen(0, "127.0.0.1", resolve),
    );
    const { port } = holder.address() as net.AddressInfo;
    try {
      const result = await run(["-H", "127.0.0.1", "-p", String(port)]);
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe(
        `Cannot listen on 127.0.0.1 port ${port}: it is in use. Stop what ` +
          "holds it, or choose another port with -p or PORT.",
      );
    } finally {
      holder.close();
    }
  }, 30_000);

  it("refuses a port it cannot serve on, and unknown options", async () => {
    for (const port of ["0", "70000", "abc"]) {
      const result = await run(["-p", port]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `Port ${port} is not a port number (1-65535)`,
      );
    }
    const unknown = await run(["--bogus"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option --bogus");
  }, 60_000);
});
