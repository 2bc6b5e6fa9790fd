import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  checkConnectInput,
  COMMAND_HOOK_EVENTS,
  ConnectFileError,
  connectClaudeCode,
  HTTP_HOOK_EVENTS,
  type ConnectSettings,
} from "./claude-code";

// The merge run on real directories: what a user finds in .mcp.json and
// .claude/settings.json after `flotilla connect claude-code`.

const settings: ConnectSettings = {
  url: "http://localhost:3000",
  tokenEnv: "FLOTILLA_TOKEN",
  cliEntry: "/opt/flotilla/cli/bin.mjs",
};
const hookUrl = "http://localhost:3000/api/agent/v1/hooks/claude-code";
const at = new Date("2026-12-04T18:15:02.123Z");

// Parsed files are read loosely: the assertions check their shape.
type Json = Record<string, any>;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-connect-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(relative: string, content: unknown) {
  const file = path.join(dir, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(
    file,
    typeof content === "string" ? content : JSON.stringify(content, null, 2),
  );
}

function read(relative: string): Json {
  return JSON.parse(fs.readFileSync(path.join(dir, relative), "utf8")) as Json;
}

function listing(): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}

const run = (dryRun = false, now = at) =>
  connectClaudeCode({ dir, settings, dryRun, now });

/** Every handler of an event, across its groups. */
function handlers(file: Json, event: string): Json[] {
  return (file.hooks[event] as Json[]).flatMap((g) => g.hooks as Json[]);
}

describe("flotilla connect claude-code: merging the files", () => {
  it("writes both files into an empty directory, naming only the variable", () => {
    const report = run();

    expect(report.files.map((f) => [f.file, f.action, f.backup])).toEqual([
      [".mcp.json", "created", null],
      [".claude/settings.json", "created", null],
    ]);
    expect(read(".mcp.json")).toEqual({
      mcpServers: {
        flotilla: {
          type: "http",
          url: "http://localhost:3000/api/mcp",
          headers: { Authorization: "Bearer ${FLOTILLA_TOKEN}" },
        },
      },
    });
    const saved = read(".claude/settings.json");
    for (const event of HTTP_HOOK_EVENTS) {
      expect(handlers(saved, event)[0]).toMatchObject({
        type: "http",
        url: hookUrl,
        headers: { Authorization: "Bearer $FLOTILLA_TOKEN" },
        allowedEnvVars: ["FLOTILLA_TOKEN"],
      });
    }
    for (const event of COMMAND_HOOK_EVENTS) {
      const [handler] = handlers(saved, event);
      expect(handler.type).toBe("command");
      expect(handler.command).toContain(`'${hookUrl}'`);
      expect(handler.command).toContain("Bearer $FLOTILLA_TOKEN");
    }
    expect(saved.hooks.PreToolUse[0].matcher).toBe("*");
    // The transcript-usage hook runs after the Stop report.
    expect(handlers(saved, "Stop")[1].command).toBe(
      "FLOTILLA_URL='http://localhost:3000' " +
        "node '/opt/flotilla/cli/bin.mjs' hook claude-code",
    );
    expect(saved.env).toEqual({
      CLAUDE_CODE_ENABLE_TELEMETRY: "1",
      OTEL_LOGS_EXPORTER: "otlp",
      OTEL_TRACES_EXPORTER: "otlp",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://localhost:3000/api/otlp",
    });
    expect(saved.env.OTEL_EXPORTER_OTLP_HEADERS).toBeUndefined();
    expect(report.notes.join("\n")).toContain(
      'OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer $FLOTILLA_TOKEN"',
    );
  });

  it("keeps other servers, hooks, env and settings, and backs the files up", () => {
    const mcp = { mcpServers: { docs: { type: "http", url: "http://d/mcp" } } };
    const mine = {
      type: "command",
      command: "npx prettier --write $CLAUDE_FILE",
    };
    const before = {
      permissions: { allow: ["Bash(npm test)"] },
      hooks: {
        PostToolUse: [{ matcher: "Edit|Write", hooks: [mine] }],
        PermissionRequest: [{ hooks: [{ type: "command", command: "say" }] }],
      },
      env: { DEBUG: "1" },
    };
    write(".mcp.json", mcp);
    write(".claude/settings.json", before);
    const original = fs.readFileSync(
      path.join(dir, ".claude/settings.json"),
      "utf8",
    );

    const report = run();

    expect(report.files.map((f) => [f.action, f.backup])).toEqual([
      ["updated", ".mcp.json.bak-20261204T181502Z"],
      ["updated", ".claude/settings.json.bak-20261204T181502Z"],
    ]);
    expect(read(".mcp.json").mcpServers.docs).toEqual(mcp.mcpServers.docs);
    expect(read(".mcp.json.bak-20261204T181502Z")).toEqual(mcp);
    expect(
      fs.readFileSync(
        path.join(dir, ".claude/settings.json.bak-20261204T181502Z"),
        "utf8",
      ),
    ).toBe(original);
    const saved = read(".claude/settings.json");
    expect(saved.permissions).toEqual(before.permissions);
    expect(saved.hooks.PermissionRequest).toEqual(
      before.hooks.PermissionRequest,
    );
    expect(saved.hooks.PostToolUse).toEqual([
      { matcher: "Edit|Write", hooks: [mine] },
      { matcher: "*", hooks: [expect.objectContaining({ url: hookUrl })] },
    ]);
    expect(saved.env.DEBUG).toBe("1");
    expect(Object.keys(saved)).toEqual(["permissions", "hooks", "env"]);
  });

  it("replaces earlier Flotilla hooks in place instead of adding duplicates", () => {
    const old = {
      type: "http",
      url: "http://old-host:4000/api/agent/v1/hooks/claude-code",
      headers: { Authorization: "Bearer $FLOTILLA_TOKEN" },
      allowedEnvVars: ["FLOTILLA_TOKEN"],
    };
    const lint = { type: "command", command: "npm run lint" };
    write(".claude/settings.json", {
      hooks: {
        // An HTTP hook where Claude Code runs only command hooks.
        SessionStart: [{ hooks: [old] }],
        PreToolUse: [
          { matcher: "*", hooks: [old] },
          { matcher: "Bash", hooks: [lint] },
        ],
        Stop: [{ hooks: [lint, old] }],
      },
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: "http://old-host:4000/api/otlp" },
    });

    const report = run();
    const saved = read(".claude/settings.json");

    for (const event of [...HTTP_HOOK_EVENTS, ...COMMAND_HOOK_EVENTS]) {
      const urls = JSON.stringify(saved.hooks[event]);
      expect(urls).not.toContain("old-host");
      expect(urls.split("/api/agent/v1/hooks/claude-code").length - 1).toBe(1);
    }
    expect(saved.hooks.SessionStart).toHaveLength(1);
    expect(handlers(saved, "SessionStart")[0].type).toBe("command");
    // Flotilla's group stays first, the user's Bash group after it.
    expect(saved.hooks.PreToolUse).toEqual([
      { matcher: "*", hooks: [expect.objectContaining({ url: hookUrl })] },
      { matcher: "Bash", hooks: [lint] },
    ]);
    // The user's own Stop hook stays where it was.
    expect(saved.hooks.Stop[0]).toEqual({ hooks: [lint] });
    expect(saved.hooks.Stop[1].hooks).toHaveLength(2);
    expect(report.files[1].changes).toContain(
      "env OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:3000/api/otlp " +
        '(was "http://old-host:4000/api/otlp")',
    );
  });

  it("changes nothing on a second run, and says so", () => {
    write(".claude/settings.json", { model: "sonnet" });
    run();
    const files = listing();
    const contents = files
      .filter((f) => f.endsWith(".json"))
      .map((f) => fs.readFileSync(path.join(dir, f), "utf8"));

    const again = run(false, new Date("2026-12-05T09:00:00Z"));

    expect(again.changed).toBe(false);
    expect(again.files.map((f) => [f.action, f.backup, f.changes])).toEqual([
      ["unchanged", null, []],
      ["unchanged", null, []],
    ]);
    expect(listing()).toEqual(files);
    expect(
      files
        .filter((f) => f.endsWith(".json"))
        .map((f) => fs.readFileSync(path.join(dir, f), "utf8")),
    ).toEqual(contents);
  });

  it("refuses malformed JSON without touching either file", () => {
    write(".claude/settings.json", '{ "hooks": { "Stop": [ }');
    const files = listing();

    expect(() => run()).toThrow(ConnectFileError);
    expect(() => run()).toThrow(
      /^\.claude\/settings\.json is not valid JSON .*Nothing was changed\.$/,
    );
    expect(listing()).toEqual(files);
    expect(
      fs.readFileSync(path.join(dir, ".claude/settings.json"), "utf8"),
    ).toBe('{ "hooks": { "Stop": [ }');
  });

  it("refuses a file whose hooks are not the shape Claude Code reads", () => {
    write(".mcp.json", { mcpServers: [] });
    expect(() => run()).toThrow(
      '.mcp.json: "mcpServers" must be a JSON object',
    );
    write(".mcp.json", {});
    write(".claude/settings.json", { hooks: { Stop: {} } });
    expect(() => run()).toThrow('"hooks.Stop" must be a JSON array');
    expect(listing()).toEqual([
      ".claude",
      ".claude/settings.json",
      ".mcp.json",
    ]);
  });

  it("writes nothing on a dry run, but reports what it would do", () => {
    write(".claude/settings.json", { env: { DEBUG: "1" } });
    const files = listing();

    const report = run(true);

    expect(report.dryRun).toBe(true);
    expect(report.files.map((f) => [f.file, f.action])).toEqual([
      [".mcp.json", "created"],
      [".claude/settings.json", "updated"],
    ]);
    expect(report.files[1].changes).toContain("hook PreToolUse (http)");
    expect(listing()).toEqual(files);
    expect(read(".claude/settings.json")).toEqual({ env: { DEBUG: "1" } });
  });

  it("maps another token variable onto the transcript hook", () => {
    connectClaudeCode({
      dir,
      settings: { ...settings, tokenEnv: "SHOP_AGENT_TOKEN" },
      now: at,
    });

    expect(read(".mcp.json").mcpServers.flotilla.headers).toEqual({
      Authorization: "Bearer ${SHOP_AGENT_TOKEN}",
    });
    const saved = read(".claude/settings.json");
    expect(handlers(saved, "PreToolUse")[0].allowedEnvVars).toEqual([
      "SHOP_AGENT_TOKEN",
    ]);
    expect(handlers(saved, "Stop")[1].command).toContain(
      'FLOTILLA_TOKEN="$SHOP_AGENT_TOKEN" node',
    );
  });
});

describe("flotilla connect claude-code: hook timeouts", () => {
  it("gives PreToolUse longer than an ask decision can wait, the rest 10 s", () => {
    run();
    const saved = read(".claude/settings.json");
    // A hook that times out lets the tool run, so PreToolUse must outlast
    // the longest wait for a person (FLOTILLA_ASK_WAIT_SECONDS, at most 55).
    expect(handlers(saved, "PreToolUse")[0].timeout).toBeGreaterThan(55);
    for (const event of HTTP_HOOK_EVENTS) {
      if (event === "PreToolUse") continue;
      expect(handlers(saved, event)[0].timeout).toBe(10);
    }
  });
});

describe("flotilla connect claude-code: options", () => {
  it.each([
    [{ tokenEnv: "T" }, "--url is required"],
    [{ url: "localhost:3000", tokenEnv: "T" }, "--url must be an http://"],
    [{ url: "not a url", tokenEnv: "T" }, "--url must be an http://"],
    [{ url: "ftp://host", tokenEnv: "T" }, "--url must be an http://"],
    [{ url: "http://h/?a=1", tokenEnv: "T" }, "without credentials, query"],
    [{ url: "http://h" }, "--token-env is required"],
    [{ url: "http://h", tokenEnv: "flt_abc" }, "not the token itself"],
    [{ url: "http://h", tokenEnv: "MY-TOKEN" }, "must be an environment"],
  ])("refuses %j", (input, message) => {
    expect(() => checkConnectInput(input)).toThrow(message);
  });

  it("drops trailing slashes and keeps a path prefix", () => {
    expect(
      checkConnectInput({
        url: " https://ops.example/flotilla/ ",
        tokenEnv: "T",
      }),
    ).toEqual({ url: "https://ops.example/flotilla", tokenEnv: "T" });
  });
});
