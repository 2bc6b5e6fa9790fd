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

  it("accepts a cwd with a trailing slash", () => {
    expect(
      editedPath(body("Edit", { file_path: "/w/repo/src/a.ts" }, "/w/repo/")),
    ).toBe("src/a.ts");
    expect(editedPath(body("Edit", { file_path: "/src/a.ts" }, "/"))).toBe(
      "src/a.ts",
    );
  });

  it.each([
    // ".." and "." in the file are resolved before it is made relative.
    ["/work/shop-api/zzz/../abs/f.ts", "/work/shop-api", "abs/f.ts"],
    ["/work/shop-api/./src//a.ts", "/work/shop-api", "src/a.ts"],
    ["/work/shop-api/../shop-api/src/a.ts", "/work/shop-api", "src/a.ts"],
    // ... and in the cwd.
    ["/repo/src/a.ts", "/repo/abs/..", "src/a.ts"],
    ["/repo/src/a.ts", "/repo/./", "src/a.ts"],
    // Climbing out of the folder leaves it.
    ["/work/shop-api/../other/a.ts", "/work/shop-api", null],
    ["/work/shop-api/..", "/work/shop-api", null],
    ["../other/a.ts", "/work/shop-api", null],
    ["src/../../a.ts", "/work/shop-api", null],
    // A relative path is resolved too.
    ["./src/../lib/a.ts", "/work/shop-api", "lib/a.ts"],
    // The folder itself is no file.
    ["/work/shop-api/src/..", "/work/shop-api", null],
  ])("Edit %j in %j -> %j", (file, cwd, expected) => {
    expect(editedPath(body("Edit", { file_path: file }, cwd))).toBe(expected);
  });

  it("reads a NotebookEdit's file_path when it has no notebook_path", () => {
    expect(
      editedPath(
        body("NotebookEdit", { file_path: "/work/shop-api/nb/y.ipynb" }),
      ),
    ).toBe("nb/y.ipynb");
    expect(
      editedPath(
        body("NotebookEdit", {
          notebook_path: "/work/shop-api/nb/x.ipynb",
          file_path: "/work/shop-api/nb/y.ipynb",
        }),
      ),
    ).toBe("nb/x.ipynb");
  });

  it("splits on backslashes only in Windows paths", () => {
    expect(
      editedPath(
        body("Edit", { file_path: "C:\\repo\\src\\a.ts" }, "C:\\repo"),
      ),
    ).toBe("src/a.ts");
    expect(
      editedPath(
        body("Edit", { file_path: "c:/Repo/zzz/../src/a.ts" }, "C:\\repo\\"),
      ),
    ).toBe("src/a.ts");
    expect(
      editedPath(body("Edit", { file_path: "src\\win\\a.ts" }, "D:\\w")),
    ).toBe("src/win/a.ts");
    // On a POSIX system a backslash is part of a file's name.
    expect(editedPath(body("Edit", { file_path: "src\\win\\a.ts" }))).toBe(
      "src\\win\\a.ts",
    );
    expect(
      editedPath(body("Edit", { file_path: "/work/shop-api/a\\..\\b.ts" })),
    ).toBe("a\\..\\b.ts");
  });
});
