import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { transcriptUsageEvents } from "@/server/observability/normalize/claude-code-transcript";
import type { NativeEvent } from "@/server/observability/model";

// `flotilla hook claude-code`: Claude Code's Stop hook. It reads the hook
// body on stdin, posts the usage lines the transcript gained since its
// last run as llm_call events, and remembers how far it read, per
// transcript, so nothing is counted twice. It must never get in Claude
// Code's way: whatever fails, it warns on stderr in one line and exits 0,
// and it moves its position only once the server accepted the events (the
// server drops replays, so a retry after a partial failure is harmless).

const STATE_FILE = "claude-code-hook.json";
const BATCH_EVENTS = 500;
const REQUEST_TIMEOUT_MS = 10_000;
const STDIN_TIMEOUT_MS = 5_000;

interface HookState {
  /** Bytes of each transcript already read, by absolute path. */
  offsets: Record<string, number>;
}

export function stateDir(): string {
  return process.env.FLOTILLA_STATE_DIR ?? path.join(os.homedir(), ".flotilla");
}

function readState(file: string): HookState {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
    const offsets = (parsed as { offsets?: unknown } | null)?.offsets;
    if (offsets && typeof offsets === "object") {
      return { offsets: { ...(offsets as Record<string, number>) } };
    }
  } catch {
    // No state yet, or unreadable: start from the beginning; the server
    // drops what it already has.
  }

  return { offsets: {} };
}

// Written to a temporary file and renamed over the old one, so a crash or
// a concurrent run never leaves half a state file.
function writeState(file: string, state: HookState) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  fs.renameSync(temporary, file);
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => {
      // Let the process end instead of waiting on an open stdin.
      process.stdin.destroy();
      reject(new Error("no hook input on stdin"));
    }, STDIN_TIMEOUT_MS);
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk: string) => (text += chunk));
    process.stdin.on("end", () => {
      clearTimeout(timer);
      resolve(text);
    });
    process.stdin.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** The complete lines of `file` after `offset`, and the offset after the
 * last of them. A last line still being written is left for next time. */
export function newLines(
  file: string,
  offset: number,
): { lines: unknown[]; end: number; skipped: number } {
  const size = fs.statSync(file).size;
  // A transcript shorter than where we stopped was rewritten: read it all.
  const start = offset <= size ? offset : 0;
  const buffer = Buffer.alloc(size - start);
  const fd = fs.openSync(file, "r");
  try {
    fs.readSync(fd, buffer, 0, buffer.length, start);
  } finally {
    fs.closeSync(fd);
  }
  let complete = buffer.lastIndexOf(0x0a) + 1;
  const tail = buffer.subarray(complete).toString("utf8");
  const texts = buffer.subarray(0, complete).toString("utf8").split("\n");
  // A final line without its newline counts once it is whole JSON.
  if (tail.trim() !== "" && parses(tail)) {
    texts.push(tail);
    complete = buffer.length;
  }
  const lines: unknown[] = [];
  let skipped = 0;
  for (const text of texts) {
    if (text.trim() === "") continue;
    try {
      lines.push(JSON.parse(text) as unknown);
    } catch {
      skipped += 1;
    }
  }

  return { lines, end: start + complete, skipped };
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);

    return true;
  } catch {
    return false;
  }
}

async function post(url: string, token: string, events: NativeEvent[]) {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ source: "claude-code-transcript", events }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (!response.ok) {
    const text = (await response.text()).slice(0, 200).replace(/\s+/g, " ");
    throw new Error(`server answered ${response.status}: ${text}`);
  }
}

/** One run of the hook; returns what it posted. Throws on any failure,
 * which the command turns into a warning. */
export async function runClaudeCodeHook(input: string): Promise<{
  posted: number;
  skipped: number;
}> {
  const base = process.env.FLOTILLA_URL;
  const token = process.env.FLOTILLA_TOKEN;
  if (!base || !token) {
    throw new Error("set FLOTILLA_URL and FLOTILLA_TOKEN (an agent token)");
  }
  let body: { transcript_path?: unknown };
  try {
    body = JSON.parse(input) as { transcript_path?: unknown };
  } catch {
    throw new Error("the hook input on stdin is not JSON");
  }
  if (typeof body.transcript_path !== "string" || !body.transcript_path) {
    throw new Error("the hook input has no transcript_path");
  }
  const transcript = path.resolve(body.transcript_path);
  const stateFile = path.join(stateDir(), STATE_FILE);
  const state = readState(stateFile);
  const offset = state.offsets[transcript] ?? 0;
  const { lines, end, skipped } = newLines(transcript, offset);

  const events = transcriptUsageEvents(lines);
  const url = `${base.replace(/\/+$/, "")}/api/agent/v1/events`;
  for (let start = 0; start < events.length; start += BATCH_EVENTS) {
    await post(url, token, events.slice(start, start + BATCH_EVENTS));
  }
  if (end !== offset) {
    // Re-read: another run may have moved other transcripts meanwhile.
    const latest = readState(stateFile);
    latest.offsets[transcript] = end;
    writeState(stateFile, latest);
  }

  return { posted: events.length, skipped };
}

export function register(program: Command) {
  const hook = program
    .command("hook")
    .description("Hooks that report agent activity to Flotilla");

  hook
    .command("claude-code")
    .description(
      "Claude Code Stop hook: posts new transcript usage to FLOTILLA_URL " +
        "with FLOTILLA_TOKEN; never fails the hook",
    )
    .action(async () => {
      try {
        const { skipped } = await runClaudeCodeHook(await readStdin());
        if (skipped > 0) {
          process.stderr.write(
            `flotilla hook: skipped ${skipped} unreadable transcript lines\n`,
          );
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        process.stderr.write(
          `flotilla hook: warning: ${message.split("\n")[0]}\n`,
        );
      }
    });
}
