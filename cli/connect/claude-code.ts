import fs from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";

// `flotilla connect claude-code`: merges Flotilla's MCP server, hooks and
// OpenTelemetry settings into a repository's .mcp.json and
// .claude/settings.json. Everything already in those files stays; the
// token never appears in them, only the name of the variable that holds
// it. The merge is pure (JSON in, JSON out); connectClaudeCode reads and
// writes the files around it.

/** Hook events Claude Code can send to an HTTP hook, and that Flotilla's
 * hook endpoint records. */
export const HTTP_HOOK_EVENTS = [
  "UserPromptSubmit",
  "PreToolUse",
  "PostToolUse",
  "PostToolUseFailure",
  "SubagentStop",
  "Stop",
];

/** Events Claude Code runs only command hooks for: each gets a command
 * that posts the hook body to the same endpoint. */
export const COMMAND_HOOK_EVENTS = [
  "SessionStart",
  "Notification",
  "SubagentStart",
  "PreCompact",
  "SessionEnd",
];

const commandOnly = new Set(COMMAND_HOOK_EVENTS);

// The order events are written in: a session's lifecycle.
const EVENT_ORDER = [
  "SessionStart",
  "UserPromptSubmit",
  "PreToolUse",
  "PostToolUse",
  "PostToolUseFailure",
  "Notification",
  "SubagentStart",
  "SubagentStop",
  "PreCompact",
  "Stop",
  "SessionEnd",
];

const TOOL_EVENTS = new Set([
  "PreToolUse",
  "PostToolUse",
  "PostToolUseFailure",
]);

export const MCP_PATH = "/api/mcp";
export const HOOK_PATH = "/api/agent/v1/hooks/claude-code";
export const OTLP_PATH = "/api/otlp";
const SERVER_NAME = "flotilla";
// Seconds Claude Code waits for Flotilla before going on without it.
const HOOK_TIMEOUT_SECONDS = 10;
// PreToolUse waits longer: on an "ask" rule Flotilla holds the call open
// while a person decides (up to FLOTILLA_ASK_WAIT_SECONDS, at most 55), and
// a hook that times out lets the tool run, so the hook must outlast the wait.
const PRE_TOOL_USE_TIMEOUT_SECONDS = 60;

export interface ConnectSettings {
  /** The console's base URL, without a trailing slash. */
  url: string;
  /** The environment variable that holds the agent token. */
  tokenEnv: string;
  /** Absolute path of the flotilla CLI entry (cli/bin.mjs), for the
   * transcript-usage hook. */
  cliEntry: string;
}

export class ConnectInputError extends Error {}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks --url and --token-env; returns the URL without trailing
 * slashes. Throws ConnectInputError with a message naming the option. */
export function checkConnectInput(input: { url?: string; tokenEnv?: string }): {
  url: string;
  tokenEnv: string;
} {
  const raw = input.url?.trim() ?? "";
  if (raw === "") {
    throw new ConnectInputError(
      "--url is required: the console's address, e.g. http://localhost:3000",
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConnectInputError(
      `--url must be an http:// or https:// URL (got '${raw}')`,
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ConnectInputError(
      `--url must be an http:// or https:// URL (got '${raw}')`,
    );
  }
  if (parsed.search || parsed.hash || parsed.username || parsed.password) {
    throw new ConnectInputError(
      "--url must be the console's base address, without credentials, " +
        `query or fragment (got '${raw}')`,
    );
  }
  const tokenEnv = input.tokenEnv?.trim() ?? "";
  if (tokenEnv === "") {
    throw new ConnectInputError(
      "--token-env is required: the name of the environment variable " +
        "that holds the agent token, e.g. --token-env FLOTILLA_TOKEN",
    );
  }
  if (tokenEnv.startsWith("flt_")) {
    throw new ConnectInputError(
      "--token-env takes the name of an environment variable, not the " +
        "token itself (export FLOTILLA_TOKEN=flt_... and pass FLOTILLA_TOKEN)",
    );
  }
  if (!ENV_NAME.test(tokenEnv)) {
    throw new ConnectInputError(
      `--token-env must be an environment variable name (letters, digits ` +
        `and _, not starting with a digit); got '${tokenEnv}'`,
    );
  }

  return { url: parsed.href.replace(/\/+$/, ""), tokenEnv };
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// Single quotes keep a path or URL literal in the shell.
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** The .mcp.json server entry. Claude Code expands ${VAR} in headers. */
export function mcpServerEntry(settings: ConnectSettings): Json {
  return {
    type: "http",
    url: `${settings.url}${MCP_PATH}`,
    headers: { Authorization: `Bearer \${${settings.tokenEnv}}` },
  };
}

function httpHook(settings: ConnectSettings, event: string): Json {
  // HTTP hook headers expand $VAR only for variables listed in
  // allowedEnvVars; any other reference is sent as an empty string.
  return {
    type: "http",
    url: `${settings.url}${HOOK_PATH}`,
    headers: { Authorization: `Bearer $${settings.tokenEnv}` },
    allowedEnvVars: [settings.tokenEnv],
    timeout:
      event === "PreToolUse"
        ? PRE_TOOL_USE_TIMEOUT_SECONDS
        : HOOK_TIMEOUT_SECONDS,
  };
}

function forwardingHook(settings: ConnectSettings): Json {
  // The hook body arrives on stdin and is posted as it is; the answer is
  // dropped (these events take none) and a failure never fails the hook.
  const command =
    `curl -sS -m ${HOOK_TIMEOUT_SECONDS} -o /dev/null -X POST ` +
    `-H "Authorization: Bearer $${settings.tokenEnv}" ` +
    `-H 'Content-Type: application/json' --data-binary @- ` +
    `${shellQuote(`${settings.url}${HOOK_PATH}`)} || true`;

  return { type: "command", command, timeout: HOOK_TIMEOUT_SECONDS + 5 };
}

function transcriptHook(settings: ConnectSettings): Json {
  const token =
    settings.tokenEnv === "FLOTILLA_TOKEN"
      ? ""
      : `FLOTILLA_TOKEN="$${settings.tokenEnv}" `;
  const command =
    `FLOTILLA_URL=${shellQuote(settings.url)} ${token}` +
    `node ${shellQuote(settings.cliEntry)} hook claude-code`;

  return { type: "command", command, timeout: 60 };
}

/** The hook groups Flotilla wants, by event. */
export function desiredHooks(settings: ConnectSettings): Map<string, Json> {
  const groups = new Map<string, Json>();
  for (const event of EVENT_ORDER) {
    const handlers = commandOnly.has(event)
      ? [forwardingHook(settings)]
      : [httpHook(settings, event)];
    if (event === "Stop") handlers.push(transcriptHook(settings));
    groups.set(event, {
      ...(TOOL_EVENTS.has(event) ? { matcher: "*" } : {}),
      hooks: handlers,
    });
  }

  return groups;
}

/** The settings.json "env" entries. Values there are taken literally (no
 * $VAR expansion), so the OTLP Authorization header cannot be built from
 * the token variable and is left to the shell. */
export function desiredEnv(settings: ConnectSettings): Record<string, string> {
  return {
    CLAUDE_CODE_ENABLE_TELEMETRY: "1",
    OTEL_LOGS_EXPORTER: "otlp",
    OTEL_TRACES_EXPORTER: "otlp",
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_EXPORTER_OTLP_ENDPOINT: `${settings.url}${OTLP_PATH}`,
  };
}

/** A hook handler Flotilla wrote (now or on an earlier run, whatever the
 * URL was then). */
export function isFlotillaHook(handler: unknown): boolean {
  if (!isObject(handler)) return false;
  if (typeof handler.url === "string") {
    return handler.url.replace(/\/+$/, "").endsWith(HOOK_PATH);
  }
  if (typeof handler.command === "string") {
    return (
      handler.command.includes(HOOK_PATH) ||
      /\bhook claude-code\b/.test(handler.command)
    );
  }

  return false;
}

export interface Merged {
  value: Json;
  changes: string[];
}

class ShapeError extends Error {}

function objectAt(parent: Json, key: string, file: string): Json {
  const value = parent[key];
  if (value === undefined) return {};
  if (!isObject(value)) {
    throw new ShapeError(`${file}: "${key}" must be a JSON object`);
  }

  return value;
}

/** .mcp.json with Flotilla's server added or brought up to date. */
export function mergeMcpJson(existing: Json, settings: ConnectSettings) {
  const servers = objectAt(existing, "mcpServers", ".mcp.json");
  const wanted = mcpServerEntry(settings);
  const current = servers[SERVER_NAME];
  const changes: string[] = [];
  if (current === undefined) {
    changes.push(`added MCP server "${SERVER_NAME}" at ${wanted.url}`);
  } else if (!isDeepStrictEqual(current, wanted)) {
    changes.push(`updated MCP server "${SERVER_NAME}" to ${wanted.url}`);
  }

  return {
    value: {
      ...existing,
      mcpServers: { ...servers, [SERVER_NAME]: wanted },
    },
    changes,
  } satisfies Merged;
}

// One event's groups with Flotilla's handlers taken out and the wanted
// group put where the first of them was (or at the end), so a second run
// finds everything in place and changes nothing.
function mergeEvent(groups: unknown[], wanted: Json): unknown[] {
  let position = -1;
  const kept: unknown[] = [];
  for (const group of groups) {
    if (!isObject(group) || !Array.isArray(group.hooks)) {
      kept.push(group);
      continue;
    }
    const others = group.hooks.filter((handler) => !isFlotillaHook(handler));
    if (others.length === group.hooks.length) {
      kept.push(group);
      continue;
    }
    if (others.length > 0) kept.push({ ...group, hooks: others });
    // Right after the group the first of them was in.
    if (position === -1) position = kept.length;
  }
  if (position === -1) position = kept.length;
  kept.splice(position, 0, wanted);

  return kept;
}

/** .claude/settings.json with Flotilla's hooks and telemetry variables
 * merged in. */
export function mergeSettings(existing: Json, settings: ConnectSettings) {
  const file = ".claude/settings.json";
  const hooks = objectAt(existing, "hooks", file);
  const env = objectAt(existing, "env", file);
  const changes: string[] = [];

  const nextHooks: Json = { ...hooks };
  for (const [event, wanted] of desiredHooks(settings)) {
    const groups = hooks[event] ?? [];
    if (!Array.isArray(groups)) {
      throw new ShapeError(`${file}: "hooks.${event}" must be a JSON array`);
    }
    const merged = mergeEvent(groups, wanted);
    if (!isDeepStrictEqual(merged, groups)) {
      const kind = commandOnly.has(event) ? "command" : "http";
      changes.push(`hook ${event} (${kind})`);
    }
    nextHooks[event] = merged;
  }

  const nextEnv: Json = { ...env };
  for (const [name, value] of Object.entries(desiredEnv(settings))) {
    if (env[name] === value) continue;
    changes.push(
      env[name] === undefined
        ? `env ${name}=${value}`
        : `env ${name}=${value} (was ${JSON.stringify(env[name])})`,
    );
    nextEnv[name] = value;
  }

  return {
    value: { ...existing, hooks: nextHooks, env: nextEnv },
    changes,
  } satisfies Merged;
}

export type FileAction = "created" | "updated" | "unchanged";

export interface FileReport {
  /** Path relative to the directory, with forward slashes. */
  file: string;
  action: FileAction;
  /** The backup of the previous content, relative to the directory. */
  backup: string | null;
  changes: string[];
}

export interface ConnectReport {
  dir: string;
  url: string;
  tokenEnv: string;
  dryRun: boolean;
  changed: boolean;
  files: FileReport[];
  notes: string[];
}

/** Malformed or mis-shaped JSON in a file the command would change. */
export class ConnectFileError extends Error {}

interface Plan {
  relative: string;
  absolute: string;
  existed: boolean;
  merged: Merged;
  text: string;
}

function readJson(absolute: string, relative: string): Json | null {
  let text: string;
  try {
    text = fs.readFileSync(absolute, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new ConnectFileError(
      `Could not read ${relative}: ${(error as Error).message}`,
    );
  }
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConnectFileError(
      `${relative} is not valid JSON (${(error as Error).message}); ` +
        "fix or remove it and run again. Nothing was changed.",
    );
  }
  if (!isObject(parsed)) {
    throw new ConnectFileError(
      `${relative} must hold a JSON object; fix it and run again. ` +
        "Nothing was changed.",
    );
  }

  return parsed;
}

function plan(
  dir: string,
  relative: string,
  merge: (existing: Json) => Merged,
): Plan {
  const absolute = path.join(dir, ...relative.split("/"));
  const existing = readJson(absolute, relative);
  let merged: Merged;
  try {
    merged = merge(existing ?? {});
  } catch (error) {
    if (!(error instanceof ShapeError)) throw error;
    throw new ConnectFileError(`${error.message}. Nothing was changed.`);
  }

  return {
    relative,
    absolute,
    existed: existing !== null,
    merged,
    text: `${JSON.stringify(merged.value, null, 2)}\n`,
  };
}

/** A file-name-safe UTC time: 20261204T181502Z. */
export function backupStamp(at: Date): string {
  return at
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/[-:]/g, "");
}

/** Reads both files, merges, and (unless dryRun) writes what changed,
 * each changed file backed up first. Both files are checked before either
 * is written, so a malformed one leaves everything as it was. */
export function connectClaudeCode(options: {
  dir: string;
  settings: ConnectSettings;
  dryRun?: boolean;
  now?: Date;
}): ConnectReport {
  const { dir, settings } = options;
  const dryRun = options.dryRun ?? false;
  const plans = [
    plan(dir, ".mcp.json", (existing) => mergeMcpJson(existing, settings)),
    plan(dir, ".claude/settings.json", (existing) =>
      mergeSettings(existing, settings),
    ),
  ];
  const stamp = backupStamp(options.now ?? new Date());

  const files = plans.map((p): FileReport => {
    const action: FileAction = !p.existed
      ? "created"
      : p.merged.changes.length > 0
        ? "updated"
        : "unchanged";
    const backup = action === "updated" ? `${p.relative}.bak-${stamp}` : null;
    if (!dryRun && action !== "unchanged") {
      fs.mkdirSync(path.dirname(p.absolute), { recursive: true });
      if (backup) fs.copyFileSync(p.absolute, path.join(dir, backup));
      fs.writeFileSync(p.absolute, p.text);
    }

    return { file: p.relative, action, backup, changes: p.merged.changes };
  });

  return {
    dir,
    url: settings.url,
    tokenEnv: settings.tokenEnv,
    dryRun,
    changed: files.some((f) => f.action !== "unchanged"),
    files,
    notes: [
      `Export ${settings.tokenEnv} (the agent token, flt_...) in the shell ` +
        "that starts Claude Code; the files only name the variable.",
      'settings.json "env" values are used literally (no $VAR expansion), ' +
        "so the OTLP Authorization header is not written there: also export " +
        `OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer $${settings.tokenEnv}".`,
      `${COMMAND_HOOK_EVENTS.join(", ")} take only command hooks in ` +
        "Claude Code; they post to Flotilla with curl.",
    ],
  };
}
