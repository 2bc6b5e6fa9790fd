import fs from "node:fs";
import path from "node:path";

// The real-shaped inputs in tests/cases, read as an agent would send
// them.

const casesDir = path.resolve(import.meta.dirname, "..", "tests", "cases");

export const corpusDir = path.resolve(
  import.meta.dirname,
  "..",
  "..",
  "shared",
  "corpora",
  "nextjs-docs-16.5.0",
);

export function jsonLines(relative: string): Record<string, unknown>[] {
  return fs
    .readFileSync(path.join(casesDir, relative), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

export function jsonFile(relative: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(casesDir, relative), "utf8"));
}
