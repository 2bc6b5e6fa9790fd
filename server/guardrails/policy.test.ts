import { describe, expect, it } from "vitest";
import {
  commandMatches,
  commandText,
  pathArguments,
  pathMatches,
  toolMatches,
} from "./match";
import {
  decideToolUse,
  preToolUseOutput,
  type GuardrailRule,
  type ToolUse,
} from "./policy";

// The policy decides from rules alone here; the database paths are in
// guardrails.int.test.ts.

const agentId = "agent-1";
const otherAgent = "agent-2";
const goalId = "goal-1";

function rule(
  id: string,
  fields: Partial<GuardrailRule> & Pick<GuardrailRule, "kind" | "decision">,
): GuardrailRule {
  return {
    id,
    scope: "project",
    goalId: null,
    agentId: null,
    tool: "*",
    pattern: null,
    reason: "",
    ...fields,
  };
}

const bash = (command: string): ToolUse => ({
  toolName: "Bash",
  toolInput: { command, description: "run it" },
});
const edit = (file: string): ToolUse => ({
  toolName: "Edit",
  toolInput: { file_path: file, old_string: "a", new_string: "b" },
});

describe("matching", () => {
  it.each([
    ["Bash", "Bash", true],
    ["Bash", "bash", false],
    ["mcp__*", "mcp__db__query", true],
    ["mcp__*", "Bash", false],
    ["mcp__github__*", "mcp__db__query", false],
    ["*", "Anything", true],
    ["Web*", "WebFetch", true],
  ])("tool glob %s on %s -> %s", (glob, name, expected) => {
    expect(toolMatches(glob, name)).toBe(expected);
  });

  it.each([
    ["migrations/**", "/work/shop-api/migrations/0001_init.sql", true],
    ["migrations/**", "/work/shop-api/db/migrations/0001.sql", true],
    ["migrations/**", "migrations/0001.sql", true],
    ["migrations/**", "/work/shop-api/src/migrations.ts", false],
    ["migrations/**", "/work/shop-api/old-migrations/x.sql", false],
    [".github/**", "/work/shop-api/.github/workflows/ci.yml", true],
    [".github/**", "/work/shop-api/github/ci.yml", false],
    ["*.env", "/work/shop-api/prod.env", true],
    ["src/*.ts", "/work/shop-api/src/a.ts", true],
    ["src/*.ts", "/work/shop-api/src/routes/a.ts", false],
    ["src/**/*.ts", "/work/shop-api/src/a.ts", true],
    ["src/**/*.ts", "/work/shop-api/src/routes/a.ts", true],
    ["/etc/**", "/etc/passwd", true],
    ["/etc/**", "/work/etc/passwd", false],
  ])("path glob %s on %s -> %s", (glob, path, expected) => {
    expect(pathMatches(glob, path)).toBe(expected);
  });

  it.each([
    ["git push --force", "git push --force", true],
    ["git push --force", "git push origin main --force", true],
    ["git push --force", "cd repo && git push --force origin", true],
    ["git push --force", "GIT PUSH --FORCE", true],
    ["git push --force", "git push --force-with-lease", false],
    ["git push --force", "git push origin main", false],
    ["git push --force", "git push origin; echo --force", false],
    [
      "git push --force",
      "git commit -m wip && git push -u origin --force",
      true,
    ],
    ["git push --force", "git log --force", false],
    ["DROP", "psql -c 'DROP TABLE orders'", true],
    ["DROP", "select * from t; drop table t", true],
    ["DROP", "npm run dropdown", false],
    ["DROP", "echo backdrop", false],
    ["rm -rf *", "rm -rf /tmp/x", true],
    ["rm -rf *", "rm -r x", false],
    ["curl*", "curlie http://x", true],
  ])("command pattern %s on %s -> %s", (pattern, command, expected) => {
    expect(commandMatches(pattern, command)).toBe(expected);
  });

  it("reads the command, else every string argument, and path arguments", () => {
    expect(commandText({ command: "ls", description: "DROP" })).toBe("ls");
    expect(commandText({ sql: "DROP TABLE x", opts: { db: "main" } })).toBe(
      "DROP TABLE x\nmain",
    );
    expect(
      pathArguments({ file_path: "/a/b.ts", content: "migrations/x" }),
    ).toEqual(["/a/b.ts"]);
    expect(pathArguments({ notebook_path: "/n.ipynb", path: "/p" })).toEqual([
      "/n.ipynb",
      "/p",
    ]);
    expect(pathArguments({ command: "rm -rf migrations" })).toEqual([]);
  });
});

describe("decideToolUse", () => {
  const rules: GuardrailRule[] = [
    rule("force", {
      kind: "command",
      tool: "Bash",
      pattern: "git push --force",
      decision: "deny",
      reason: "history is shared",
    }),
    rule("drop", { kind: "command", pattern: "DROP", decision: "ask" }),
    rule("migrations", {
      kind: "path",
      pattern: "migrations/**",
      decision: "ask",
    }),
    rule("github", { kind: "path", pattern: ".github/**", decision: "ask" }),
    rule("mcp", { kind: "tool", tool: "mcp__*", decision: "deny" }),
    rule("mcp-docs", {
      kind: "tool",
      tool: "mcp__docs__*",
      decision: "allow",
      scope: "agent",
      agentId,
    }),
    rule("goal-migrations", {
      kind: "path",
      pattern: "migrations/**",
      decision: "allow",
      scope: "goal",
      goalId,
    }),
    rule("agent-drop", {
      kind: "command",
      pattern: "DROP",
      decision: "deny",
      scope: "agent",
      agentId: otherAgent,
    }),
    // Within one scope the stricter decision wins over an allow.
    rule("web-allow", { kind: "tool", tool: "WebFetch", decision: "allow" }),
    rule("web-ask", { kind: "tool", tool: "Web*", decision: "ask" }),
  ];

  it.each<
    [string, ToolUse, { goalIds?: string[]; agent?: string }, string, string]
  >([
    ["force push", bash("git push origin main --force"), {}, "deny", "force"],
    ["plain push", bash("git push origin main"), {}, "allow", "default"],
    ["lease push", bash("git push --force-with-lease"), {}, "allow", "default"],
    ["DROP in Bash", bash("psql -c 'DROP TABLE x'"), {}, "ask", "drop"],
    [
      "DROP in a SQL tool",
      { toolName: "mcp__db__query", toolInput: { sql: "drop table x" } },
      {},
      // The tool rule (deny all mcp__*) and the command rule (ask) are both
      // project rules: the stricter one wins.
      "deny",
      "mcp",
    ],
    [
      "migration edit",
      edit("/w/api/migrations/1.sql"),
      {},
      "ask",
      "migrations",
    ],
    [
      "workflow edit",
      edit("/w/api/.github/workflows/ci.yml"),
      {},
      "ask",
      "github",
    ],
    ["source edit", edit("/w/api/src/orders.ts"), {}, "allow", "default"],
    [
      "migration edit on the goal that allows it",
      edit("/w/api/migrations/1.sql"),
      { goalIds: [goalId] },
      "allow",
      "goal-migrations",
    ],
    [
      "migration edit on another goal",
      edit("/w/api/migrations/1.sql"),
      { goalIds: ["goal-2"] },
      "ask",
      "migrations",
    ],
    [
      "agent allow beats project deny",
      { toolName: "mcp__docs__search", toolInput: { q: "x" } },
      {},
      "allow",
      "mcp-docs",
    ],
    [
      "another agent's rule does not apply",
      bash("psql -c 'DROP TABLE x'"),
      {},
      "ask",
      "drop",
    ],
    [
      "the agent's own deny beats the project ask",
      bash("psql -c 'DROP TABLE x'"),
      { agent: otherAgent },
      "deny",
      "agent-drop",
    ],
    [
      "stricter within a scope",
      { toolName: "WebFetch", toolInput: {} },
      {},
      "ask",
      "web-ask",
    ],
    [
      "read",
      { toolName: "Read", toolInput: { file_path: "/w/a" } },
      {},
      "allow",
      "default",
    ],
  ])("%s", (_name, use, subject, decision, ruleId) => {
    const result = decideToolUse(rules, use, {
      agentId: subject.agent ?? agentId,
      goalIds: subject.goalIds ?? [],
    });
    expect(result.decision).toBe(decision);
    expect(result.rule).toBe(
      ruleId === "default" ? "default" : `guardrail:${ruleId}`,
    );
  });

  it("says which rule applied, at what scope, and why", () => {
    const result = decideToolUse(rules, bash("git push --force"), {
      agentId,
      goalIds: [],
    });
    expect(result).toEqual({
      decision: "deny",
      rule: "guardrail:force",
      scope: "project",
      reason:
        'Blocked by the project guardrail on Bash commands matching "git push --force": history is shared',
    });
  });

  it("answers in the form Claude Code obeys", () => {
    expect(
      preToolUseOutput({
        decision: "allow",
        rule: "default",
        scope: null,
        reason: "x",
      }),
    ).toEqual({
      hookSpecificOutput: {
        hookEventName: "PreToolUse",
        permissionDecision: "allow",
      },
    });
    expect(
      preToolUseOutput({
        decision: "ask",
        rule: "r",
        scope: "project",
        reason: "why",
      }),
    ).toEqual({
      hookSpecificOutput: {
        hookEventName: "PreToolUse",
        permissionDecision: "ask",
        permissionDecisionReason: "why",
      },
    });
  });
});
