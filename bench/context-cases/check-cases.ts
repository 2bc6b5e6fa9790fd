/**
 * Validates a context eval cases file against a markdown corpus.
 *
 * Usage: npx tsx bench/context-cases/check-cases.ts <cases.jsonl> <corpus-dir>
 *
 * For every case it checks that the gold file exists, that the gold heading
 * sits exactly on gold_line (1-based), that each must_contain string occurs in
 * the gold section (from the heading to the next heading of the same or higher
 * level, ignoring headings inside code fences), that every acceptable entry
 * names an existing heading, and that ids are unique. Prints a JSON summary
 * and exits 1 when any problem is found.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

const CATEGORIES = new Set([
  "exact",
  "paraphrase",
  "version_changed",
  "procedure",
  "router_trap",
  "config",
  "unanswerable",
  "terse",
]);

interface Heading {
  line: number; // 1-based
  level: number;
  text: string; // the full heading line, trimmed at the end
}

interface ParsedDoc {
  lines: string[];
  headings: Heading[];
}

interface Problem {
  id: string;
  line: number;
  problem: string;
}

const docCache = new Map<string, ParsedDoc | null>();

function parseDoc(file: string): ParsedDoc | null {
  if (docCache.has(file)) return docCache.get(file) ?? null;
  if (!existsSync(file)) {
    docCache.set(file, null);
    return null;
  }
  const lines = readFileSync(file, "utf8").split(/\r?\n/);
  const headings: Heading[] = [];
  let fence: { char: string; len: number } | null = null;
  let i = 0;
  // Skip YAML front matter so comment lines in it are not taken as headings.
  if (lines[0]?.trim() === "---") {
    const end = lines.findIndex((l, idx) => idx > 0 && l.trim() === "---");
    if (end > 0) i = end + 1;
  }
  for (; i < lines.length; i++) {
    const line = lines[i];
    const fenceMatch = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fenceMatch) {
      const marker = fenceMatch[1];
      if (!fence) {
        fence = { char: marker[0], len: marker.length };
      } else if (
        marker[0] === fence.char &&
        marker.length >= fence.len &&
        line.trim() === marker
      ) {
        fence = null;
      }
      continue;
    }
    if (fence) continue;
    const h = /^(#{1,6})\s+\S/.exec(line);
    if (h)
      headings.push({ line: i + 1, level: h[1].length, text: line.trimEnd() });
  }
  const doc = { lines, headings };
  docCache.set(file, doc);
  return doc;
}

function sectionText(doc: ParsedDoc, heading: Heading): string {
  const next = doc.headings.find(
    (h) => h.line > heading.line && h.level <= heading.level,
  );
  const endLine = next ? next.line - 1 : doc.lines.length;
  return doc.lines.slice(heading.line - 1, endLine).join("\n");
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

function main(): number {
  const [casesFile, corpusDir] = process.argv.slice(2);
  if (!casesFile || !corpusDir) {
    console.error("usage: npx tsx check-cases.ts <cases.jsonl> <corpus-dir>");
    return 2;
  }
  if (!existsSync(casesFile)) {
    console.error(`cases file not found: ${casesFile}`);
    return 2;
  }
  if (!existsSync(corpusDir)) {
    console.error(`corpus dir not found: ${corpusDir}`);
    return 2;
  }

  const problems: Problem[] = [];
  const ids = new Map<string, number>();
  const categories: Record<string, number> = {};
  const goldFiles = new Set<string>();
  let cases = 0;

  const rawLines = readFileSync(casesFile, "utf8").split(/\r?\n/);
  rawLines.forEach((raw, idx) => {
    const lineNo = idx + 1;
    if (raw.trim() === "") return;
    let c: Record<string, unknown>;
    try {
      c = JSON.parse(raw) as Record<string, unknown>;
    } catch (err) {
      problems.push({
        id: "?",
        line: lineNo,
        problem: `invalid JSON: ${(err as Error).message}`,
      });
      return;
    }
    cases++;
    const id = typeof c.id === "string" ? c.id : "?";
    const add = (problem: string) =>
      problems.push({ id, line: lineNo, problem });

    if (id === "?") add("missing string id");
    else if (ids.has(id)) add(`duplicate id (first on line ${ids.get(id)})`);
    else ids.set(id, lineNo);

    if (typeof c.question !== "string" || c.question.trim() === "")
      add("missing question");
    const category = typeof c.category === "string" ? c.category : "";
    if (!CATEGORIES.has(category))
      add(`unknown category ${JSON.stringify(c.category)}`);
    categories[category] = (categories[category] ?? 0) + 1;

    const mustContain = c.must_contain;
    if (!isStringArray(mustContain))
      add("must_contain must be an array of strings");
    const acceptable = c.acceptable;
    if (!Array.isArray(acceptable)) add("acceptable must be an array");

    if (category === "unanswerable") {
      for (const f of [
        "gold_path",
        "gold_heading",
        "gold_line",
        "answer",
      ] as const) {
        if (c[f] !== null) add(`${f} must be null for an unanswerable case`);
      }
      if (Array.isArray(mustContain) && mustContain.length > 0)
        add("must_contain must be empty for an unanswerable case");
      if (Array.isArray(acceptable) && acceptable.length > 0)
        add("acceptable must be empty for an unanswerable case");
      return;
    }

    if (typeof c.answer !== "string" || c.answer.trim() === "")
      add("missing answer");
    if (
      typeof c.gold_path !== "string" ||
      typeof c.gold_heading !== "string" ||
      typeof c.gold_line !== "number"
    ) {
      add("gold_path, gold_heading and gold_line are required");
      return;
    }
    goldFiles.add(c.gold_path);
    const doc = parseDoc(path.join(corpusDir, c.gold_path));
    if (!doc) {
      add(`gold_path not found: ${c.gold_path}`);
    } else {
      const actual = doc.lines[c.gold_line - 1];
      const heading = doc.headings.find((h) => h.line === c.gold_line);
      if (actual === undefined) {
        add(`gold_line ${c.gold_line} is past the end of ${c.gold_path}`);
      } else if (!heading || heading.text !== c.gold_heading.trimEnd()) {
        const found = doc.headings
          .filter((h) => h.text === c.gold_heading)
          .map((h) => h.line);
        add(
          `gold_heading not at line ${c.gold_line} (line reads ${JSON.stringify(actual)}; heading found at ${
            found.length ? found.join(",") : "no line"
          })`,
        );
      } else if (isStringArray(mustContain)) {
        if (mustContain.length === 0) add("must_contain is empty");
        const text = sectionText(doc, heading);
        for (const s of mustContain) {
          if (!text.includes(s))
            add(`must_contain ${JSON.stringify(s)} not in gold section`);
        }
      }
    }

    if (Array.isArray(acceptable)) {
      for (const a of acceptable as unknown[]) {
        const entry = a as { path?: unknown; heading?: unknown };
        if (
          typeof entry?.path !== "string" ||
          typeof entry?.heading !== "string"
        ) {
          add(`acceptable entry must be {path, heading}: ${JSON.stringify(a)}`);
          continue;
        }
        const adoc = parseDoc(path.join(corpusDir, entry.path));
        if (!adoc) add(`acceptable path not found: ${entry.path}`);
        else if (
          !adoc.headings.some(
            (h) => h.text === (entry.heading as string).trimEnd(),
          )
        )
          add(
            `acceptable heading ${JSON.stringify(entry.heading)} not in ${entry.path}`,
          );
        if (entry.path === c.gold_path && entry.heading === c.gold_heading)
          add("acceptable repeats the gold section");
      }
    }
  });

  const summary = {
    cases_file: casesFile,
    corpus: corpusDir,
    cases,
    categories,
    distinct_gold_files: goldFiles.size,
    problems: problems.length,
    ok: problems.length === 0,
    details: problems,
  };
  console.log(JSON.stringify(summary, null, 2));
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = main();
