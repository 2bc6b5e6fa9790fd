import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { startLoopbackServer, type LoopbackServer } from "@/client/testing";
import { indexDocuments } from "@/server/context";
import type { Actor } from "@/server/identity/actor";
import { createGoal, createTask } from "@/server/orchestration";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject } from "@/tests/fixtures";

// The agent-side commands as a shell-driven agent runs them: the real CLI
// in a child process, against the route handlers on a loopback port. The
// CLI gets a data directory that must stay untouched, since these commands
// are HTTP clients and never open a database.

const root = path.resolve(import.meta.dirname, "../..");
const cli: Actor = { kind: "cli", label: "cli:test" };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function flotilla(
  env: Record<string, string | undefined>,
  args: string[],
  stdin?: string,
) {
  const full: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete full.DATABASE_URL;
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete full[key];
  }

  return new Promise<Run>((resolve) => {
    const child = spawn(process.execPath, ["cli/bin.mjs", ...args], {
      cwd: root,
      env: full,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? "");
  });
}

describe.each(testKinds)("agent-side CLI on %s", (kind) => {
  let handle: DatabaseHandle;
  let server: LoopbackServer;
  let tmp: string;
  let env: Record<string, string | undefined>;
  let goalId: string;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    const { db } = handle;
    const project = await makeProject(db);
    const made = await makeAgent(db, project.id, "shell-agent");
    goalId = (await createGoal(db, cli, { project: project.slug, title: "G" }))
      .id;
    await createTask(db, cli, { goalId, title: "First job", priority: 5 });
    await createTask(db, cli, { goalId, title: "Second job" });
    await indexDocuments(db, cli, {
      project: project.slug,
      files: [
        {
          path: "deploy.md",
          content:
            "# Deploy\n\n## Rollback\n\nRun `make rollback` to undo a deploy.\n",
        },
      ],
    });
    server = await startLoopbackServer();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-work-"));
    env = {
      FLOTILLA_URL: server.url,
      FLOTILLA_TOKEN: made.secret,
      FLOTILLA_DATA_DIR: path.join(tmp, "data"),
    };
  });

  afterAll(async () => {
    await server?.close();
    await handle?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("claims, heartbeats, completes and fails tasks", async () => {
    const claimed = await flotilla(env, [
      "claim",
      "--goal",
      goalId,
      "--ttl",
      "60",
      "--json",
    ]);
    expect(claimed.code).toBe(0);
    const first = JSON.parse(claimed.stdout) as {
      task: { id: string; title: string };
      lease: { id: string };
    };
    expect(first.task.title).toBe("First job");

    const renewed = await flotilla(env, ["heartbeat", first.task.id]);
    expect(renewed.code).toBe(0);
    expect(renewed.stdout).toContain(`lease ${first.lease.id} until`);

    const done = await flotilla(env, [
      "complete",
      first.task.id,
      "--result",
      "shipped",
    ]);
    expect(done).toMatchObject({ code: 0, stderr: "" });
    expect(done.stdout).toBe(`Completed ${first.task.id} done First job\n`);

    const second = await flotilla(env, ["claim"]);
    expect(second.code).toBe(0);
    const secondId = /Claimed (\S+)/.exec(second.stdout)?.[1] ?? "";
    const failed = await flotilla(env, [
      "fail",
      secondId,
      "--reason",
      "tests red",
      "--json",
    ]);
    expect(failed.code).toBe(0);
    expect(JSON.parse(failed.stdout)).toMatchObject({
      task: { status: "failed", result: "tests red" },
    });

    const none = await flotilla(env, ["claim"]);
    expect(none).toMatchObject({ code: 0, stdout: "No task is ready.\n" });

    // A refusal is exit 2, with the server's error envelope under --json.
    const refused = await flotilla(env, ["complete", secondId, "--json"]);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stderr)).toMatchObject({
      error: { code: expect.any(String), message: expect.any(String) },
    });
    const invalid = await flotilla(env, ["claim", "--ttl", "5"]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain("ttlSeconds");

    expect(fs.existsSync(path.join(tmp, "data"))).toBe(false);
  }, 120_000);

  it("answers context questions and reports events from stdin", async () => {
    const answer = await flotilla(env, ["context", "rollback a deploy"]);
    expect(answer.code).toBe(0);
    expect(answer.stdout).toContain("deploy.md");
    expect(answer.stdout).toContain("make rollback");

    const time = new Date().toISOString();
    const events = [
      { id: "e1", sessionId: "sh-1", type: "tool_call", time },
      { id: "e2", sessionId: "sh-1", type: "nonsense", time },
    ];
    const reported = await flotilla(
      env,
      ["report", "--json"],
      JSON.stringify({ events }),
    );
    expect(reported.code).toBe(2);
    expect(JSON.parse(reported.stdout)).toMatchObject({
      accepted: 1,
      rejected: 1,
      rejections: [{ index: 1 }],
    });
    const again = await flotilla(env, ["report"], JSON.stringify([events[0]]));
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("0 accepted, 1 duplicate, 0 rejected");

    const notJson = await flotilla(env, ["report"], "not json");
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toContain("stdin is not JSON");
  }, 120_000);

  it("says what is missing and when the server cannot be reached", async () => {
    const unset = await flotilla(
      { ...env, FLOTILLA_URL: undefined, FLOTILLA_TOKEN: undefined },
      ["claim"],
    );
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain("Set FLOTILLA_URL");
    expect(unset.stderr).toContain("FLOTILLA_TOKEN");

    const down = await flotilla(
      { ...env, FLOTILLA_URL: "http://127.0.0.1:9" },
      ["heartbeat", "00000000-0000-4000-8000-000000000000"],
    );
    expect(down.code).toBe(3);
    expect(down.stderr).toContain("Could not reach http://127.0.0.1:9");
  }, 60_000);
});
