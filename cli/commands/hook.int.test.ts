import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { events } from "@/db/schema";
import { POST as postEvents } from "@/app/api/agent/v1/events/route";
import { openTestDatabase, testKinds } from "@/tests/db";
import {
  casesDir,
  makeAgent,
  makeProject,
} from "@/server/observability/testing";

// `flotilla hook claude-code` run as Claude Code runs it: a separate
// process, the hook body on stdin, posting to a loopback server that hands
// each request to the real route handler.

const root = path.resolve(import.meta.dirname, "..", "..");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runHook(env: NodeJS.ProcessEnv, stdin: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["cli/bin.mjs", "hook", "claude-code"],
      { cwd: root, env },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`hook hung: ${stderr}`));
    }, 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

function usageLine(requestId: string, seconds: number) {
  return JSON.stringify({
    type: "assistant",
    sessionId: "7d3f2a10-5b8e-4c61-9a2f-0e1d4c5b6a70",
    uuid: `a-${requestId}`,
    timestamp: `2026-11-30T09:20:${String(seconds).padStart(2, "0")}.000Z`,
    requestId,
    message: {
      id: `msg_${requestId}`,
      model: "claude-sonnet-4-5-20250929",
      stop_reason: "end_turn",
      usage: { input_tokens: 10, output_tokens: 20 },
    },
  });
}

describe.each(testKinds)("flotilla hook claude-code on %s", (kind) => {
  let handle: DatabaseHandle;
  let server: http.Server;
  let tmp: string;
  let transcript: string;
  let env: NodeJS.ProcessEnv;
  let projectId: string;
  /** Event ids of each batch the server received. */
  const posts: string[][] = [];
  let failing = false;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    const project = await makeProject(handle.db, `hook-${kind}`);
    projectId = project.id;
    const { secret } = await makeAgent(handle.db, project.id, "claude");

    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", async () => {
        const body = Buffer.concat(chunks).toString("utf8");
        if (failing) {
          res.writeHead(503).end("try later");

          return;
        }
        const parsed = JSON.parse(body) as { events: { id: string }[] };
        posts.push(parsed.events.map((e) => e.id));
        const headers = new Headers();
        for (const [name, value] of Object.entries(req.headers)) {
          if (typeof value === "string") headers.set(name, value);
        }
        const response = await postEvents(
          new Request(`http://127.0.0.1${req.url ?? "/"}`, {
            method: "POST",
            headers,
            body,
          }),
          { params: Promise.resolve({}) },
        );
        res.writeHead(response.status, {
          "content-type": "application/json",
        });
        res.end(await response.text());
      });
    });
    await new Promise<void>((resolve) =>
      server.listen(0, "127.0.0.1", resolve),
    );
    const { port } = server.address() as AddressInfo;

    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-hook-"));
    transcript = path.join(tmp, "transcript.jsonl");
    fs.copyFileSync(
      path.join(casesDir, "hooks", "transcript-usage.jsonl"),
      transcript,
    );
    env = {
      ...process.env,
      FLOTILLA_URL: `http://127.0.0.1:${port}/`,
      FLOTILLA_TOKEN: secret,
      FLOTILLA_STATE_DIR: path.join(tmp, "state"),
    };
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    useDatabase(null);
    await handle.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const stop = () =>
    JSON.stringify({
      session_id: "7d3f2a10-5b8e-4c61-9a2f-0e1d4c5b6a70",
      transcript_path: transcript,
      hook_event_name: "Stop",
      stop_hook_active: false,
    });

  async function storedUsage() {
    return handle.db
      .select({ key: events.eventKey })
      .from(events)
      .where(and(eq(events.projectId, projectId), eq(events.type, "llm_call")));
  }

  it("posts only the usage lines added since its last run", async () => {
    const first = await runHook(env, stop());
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(posts).toHaveLength(1);
    expect(posts[0]).toHaveLength(4);
    expect(await storedUsage()).toHaveLength(4);

    const second = await runHook(env, stop());
    expect(second).toMatchObject({ code: 0, stderr: "" });
    expect(posts).toHaveLength(1);

    // Two new responses, and a third whose line is still being written.
    const partial = usageLine("req_new3", 3);
    fs.appendFileSync(
      transcript,
      `${usageLine("req_new1", 1)}\n${usageLine("req_new2", 2)}\n` +
        partial.slice(0, 40),
    );
    const third = await runHook(env, stop());
    expect(third).toMatchObject({ code: 0, stderr: "" });
    expect(posts).toHaveLength(2);
    expect(posts[1]).toEqual([
      "claude-code:7d3f2a10-5b8e-4c61-9a2f-0e1d4c5b6a70:usage:req_new1",
      "claude-code:7d3f2a10-5b8e-4c61-9a2f-0e1d4c5b6a70:usage:req_new2",
    ]);

    // The rest of that line arrives while the server is down: a warning,
    // exit 0, and the position stays where it was.
    fs.appendFileSync(transcript, `${partial.slice(40)}\n`);
    failing = true;
    const down = await runHook(env, stop());
    failing = false;
    expect(down.code).toBe(0);
    expect(down.stderr).toMatch(/^flotilla hook: warning: .*503.*\n$/);

    const retried = await runHook(env, stop());
    expect(retried).toMatchObject({ code: 0, stderr: "" });
    expect(posts.at(-1)).toEqual([
      "claude-code:7d3f2a10-5b8e-4c61-9a2f-0e1d4c5b6a70:usage:req_new3",
    ]);
    expect(await storedUsage()).toHaveLength(7);
  }, 240_000);

  it("never fails the hook, whatever is wrong", async () => {
    const noToken = { ...env, FLOTILLA_TOKEN: "" };
    const missing = await runHook(noToken, stop());
    expect(missing.code).toBe(0);
    expect(missing.stderr).toContain("FLOTILLA_TOKEN");

    const garbage = await runHook(env, "not json");
    expect(garbage.code).toBe(0);
    expect(garbage.stderr.trim().split("\n")).toHaveLength(1);

    const badToken = await runHook(
      { ...env, FLOTILLA_TOKEN: "flt_wrong" },
      JSON.stringify({ transcript_path: path.join(tmp, "other.jsonl") }),
    );
    expect(badToken.code).toBe(0);
    expect(badToken.stderr).toMatch(/^flotilla hook: warning: /);
  }, 240_000);
});
