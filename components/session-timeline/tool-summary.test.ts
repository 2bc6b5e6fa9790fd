import { describe, expect, it } from "vitest";
import { maskValue } from "@/server/observability/flags";
import { toolSummary } from "./tool-summary";

// The one-line summary beside a tool call's name in the timeline.

describe("tool call summary", () => {
  it("shows a shell command on one line", () => {
    expect(toolSummary({ command: "git push --force\n  origin main" })).toBe(
      "git push --force origin main",
    );
    expect(toolSummary({ command: "rm -rf /", description: "x" })).toBe(
      "rm -rf /",
    );
  });

  it("shows the path of a file tool", () => {
    expect(toolSummary({ file_path: "/repo/src/app.ts", content: "x" })).toBe(
      "/repo/src/app.ts",
    );
    expect(toolSummary({ pattern: "TODO", path: "lib" })).toBe("lib");
  });

  it("shows nothing for other inputs", () => {
    expect(toolSummary({ query: "weather" })).toBeNull();
    expect(toolSummary("ls")).toBeNull();
    expect(toolSummary(null)).toBeNull();
    expect(toolSummary({ command: "   " })).toBeNull();
  });

  it("cuts a long command with an ellipsis", () => {
    const summary = toolSummary({ command: "echo " + "a".repeat(500) });
    expect(summary).toHaveLength(160);
    expect(summary?.endsWith("…")).toBe(true);
  });

  it("keeps secrets masked as the detail panel shows them", () => {
    const key = "AKIA" + "ZZQWERTYUIOPASDF";
    const summary = toolSummary(
      maskValue({ command: `export AWS_ACCESS_KEY_ID=${key}` }),
    );
    expect(summary).toContain("export AWS_ACCESS_KEY_ID=");
    expect(summary).not.toContain(key);
  });
});
