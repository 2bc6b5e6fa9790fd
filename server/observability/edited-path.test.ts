import { describe, expect, it } from "vitest";
import { editedPath } from "./hooks";
import type { HookBody } from "./normalize/claude-code-hook";

// Which repository file a Claude Code tool call edits: what the PreToolUse
// hold check looks up.

function body(tool: string, input: unknown, cwd = "/work/shop-api") {
  return {
    session_id: "s",
    hook_event_name: "PreToolUse",
    tool_name: tool,
    tool_input: input,
    cwd,
  } as HookBody;
}

describe("editedPath", () => {
  it.each([
    ["Edit", { file_path: "/work/shop-api/src/a.ts" }, "src/a.ts"],
    ["Write", { file_path: "docs/api.md" }, "docs/api.md"],
    ["MultiEdit", { file_path: "/work/shop-api/src/b.ts" }, "src/b.ts"],
    [
      "NotebookEdit",
      { notebook_path: "/work/shop-api/nb/x.ipynb" },
      "nb/x.ipynb",
    ],
    // Outside the session's folder, or a folder that merely shares a prefix.
    ["Edit", { file_path: "/etc/hosts" }, null],
    ["Edit", { file_path: "/work/shop-api-old/src/a.ts" }, null],
    // Not an edit, or no path to speak of.
    ["Read", { file_path: "/work/shop-api/src/a.ts" }, null],
    ["Bash", { command: "rm -rf src" }, null],
    ["Edit", { file_path: "" }, null],
    ["Edit", "not an object", null],
  ])("%s %j -> %j", (tool, input, expected) => {
    expect(editedPath(body(tool, input))).toBe(expected);
  });

  it("accepts a cwd with a trailing slash and Windows separators", () => {
    expect(
      editedPath(body("Edit", { file_path: "/w/repo/src/a.ts" }, "/w/repo/")),
    ).toBe("src/a.ts");
    expect(editedPath(body("Edit", { file_path: "src\\win\\a.ts" }))).toBe(
      "src/win/a.ts",
    );
  });
});
