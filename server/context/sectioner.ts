import path from "node:path";
import matter from "gray-matter";
import { countTokens } from "./tokens";

// Splits a markdown document into sections at its headings (ATX "## x"
// and setext "x" over "---" or "==="), outside code fences; sections over
// maxSectionTokens are cut again at paragraph boundaries. Pure: no
// database, no file system; the indexer and the tests call it directly.

/** Sections longer than this are split into parts at blank lines. */
export const maxSectionTokens = 800;

export interface MarkdownSection {
  /** 0-based position in the document. */
  ordinal: number;
  /** Heading text as written (inline markdown kept), or the title for the
   * text before the first heading. */
  heading: string;
  /** Breadcrumb from the document title down, joined with " > ". */
  headingPath: string;
  /** 1..6 for headings; 0 for the text before the first heading. */
  level: number;
  /** 1-based line in the original file, front matter included. */
  line: number;
  /** The section's markdown, heading line included, trailing blanks cut.
   * A later part of a split section starts at its paragraph instead. */
  body: string;
  tokens: number;
  /** 1-based part of a section split for length, out of `parts`; a section
   * short enough is part 1 of 1. Heading and breadcrumb are the same in
   * every part, so the breadcrumb stays clean. */
  part: number;
  parts: number;
  /** Lines the heading takes at the top of the body: 1 for "## x", the
   * text's lines plus the underline for setext, 0 for the text before the
   * first heading and for later parts. */
  headingLines: number;
}

export interface SectionedDocument {
  title: string;
  frontMatter: Record<string, unknown>;
  /** Set when the front matter block exists but is not valid YAML. */
  frontMatterError: string | null;
  sections: MarkdownSection[];
  /** Tokens of the whole file as stored on disk. */
  tokens: number;
  lines: number;
}

interface Fence {
  marker: "`" | "~";
  length: number;
}

interface Heading {
  index: number;
  level: number;
  text: string;
  /** How many lines the heading spans (setext headings take several). */
  lineCount: number;
}

const fenceOpen = /^\s*(`{3,}|~{3,})(.*)$/;
const fenceClose = /^\s*(`{3,}|~{3,})\s*$/;
// Up to three spaces of indent, 1-6 hashes, then a space or the line's end.
const atxHeading = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$/;

/** The fence a line opens, if any. Indent is not limited because fences
 * inside list items are indented by the list. */
function openedFence(line: string): Fence | null {
  const match = fenceOpen.exec(line);
  if (!match) return null;
  const marker = match[1][0] as "`" | "~";
  // A backtick fence's info string may not contain backticks (that is
  // inline code such as ```foo``` on one line).
  if (marker === "`" && match[2].includes("`")) return null;

  return { marker, length: match[1].length };
}

function closesFence(line: string, fence: Fence): boolean {
  const match = fenceClose.exec(line);

  return (
    match !== null &&
    match[1][0] === fence.marker &&
    match[1].length >= fence.length
  );
}

/** Whether the text opens a code fence that it does not close. */
export function leavesFenceOpen(text: string): boolean {
  let fence: Fence | null = null;
  for (const line of text.replace(/\r\n?/g, "\n").split("\n")) {
    if (fence) {
      if (closesFence(line, fence)) fence = null;
    } else {
      fence = openedFence(line);
    }
  }

  return fence !== null;
}

function headingText(raw: string | undefined): string {
  const text = (raw ?? "").trim();
  if (/^#+$/.test(text)) return "";

  // An optional closing run of hashes must follow a space.
  return text.replace(/[ \t]+#+$/, "").trim();
}

// A setext underline: up to three spaces, then only = or only -.
const setextUnderline = /^ {0,3}(=+|-+)[ \t]*$/;
// "***", "- - -", "___": a thematic break ends a paragraph.
const thematicBreak = /^ {0,3}([-*_])([ \t]*\1){2,}[ \t]*$/;
const listItem = /^ {0,3}([-*+]|\d{1,9}[.)])([ \t]|$)/;
// Lines whose paragraph cannot be a setext heading's text: list items,
// quotes, HTML or JSX, tables, indented code, MDX imports and exports.
const notHeadingText =
  /^( {0,3}([-*+]|\d{1,9}[.)])([ \t]|$)| {0,3}>| {0,3}<| *\||( {4}|\t)|(import|export)\s)/;

/** Headings outside code fences, by 0-based line index. A setext
 * heading's index is its first text line. A "---" under a list item, a
 * quote or a blank line is a rule, not a heading. */
export function findHeadings(lines: string[]): Heading[] {
  const headings: Heading[] = [];
  let fence: Fence | null = null;
  // The paragraph being read: its first line, and whether its text could
  // be a setext heading's.
  let paragraph: { start: number; plain: boolean } | null = null;
  lines.forEach((line, index) => {
    if (fence) {
      if (closesFence(line, fence)) fence = null;

      return;
    }
    if (line.trim() === "") {
      paragraph = null;

      return;
    }
    if (paragraph?.plain && setextUnderline.test(line)) {
      const text = lines
        .slice(paragraph.start, index)
        .map((l) => l.trim())
        .join(" ");
      headings.push({
        index: paragraph.start,
        level: line.trim()[0] === "=" ? 1 : 2,
        text,
        lineCount: index - paragraph.start + 1,
      });
      paragraph = null;

      return;
    }
    const opened = openedFence(line);
    if (opened) {
      fence = opened;
      paragraph = null;

      return;
    }
    const match = atxHeading.exec(line);
    if (match) {
      headings.push({
        index,
        level: match[1].length,
        text: headingText(match[2]),
        lineCount: 1,
      });
      paragraph = null;

      return;
    }
    if (thematicBreak.test(line)) {
      paragraph = null;

      return;
    }
    // A list item starts a block of its own, even inside a paragraph.
    if (!paragraph || listItem.test(line)) {
      paragraph = { start: index, plain: !notHeadingText.test(line) };
    }
  });

  return headings;
}

/** Cuts a long section into parts at blank lines outside code fences,
 * each near `limit` tokens. A paragraph longer than the limit (a big code
 * block, say) stays whole. Returns each part's first line index. */
function partStarts(lines: string[], limit: number): number[] {
  // Blocks: runs of lines from one paragraph start to the next.
  const starts = [0];
  let fence: Fence | null = null;
  lines.forEach((line, index) => {
    if (fence) {
      if (closesFence(line, fence)) fence = null;

      return;
    }
    if (openedFence(line)) fence = openedFence(line);
    const previousBlank = index > 0 && lines[index - 1].trim() === "";
    // An indented line after a blank may be indented code or a list
    // item's continuation: not a place to cut.
    const indented = /^( {4}|\t)/.test(line);
    if (previousBlank && line.trim() !== "" && !indented && index > 0) {
      starts.push(index);
    }
  });
  const blocks = starts.map((start, i) =>
    countTokens(lines.slice(start, starts[i + 1] ?? lines.length).join("\n")),
  );
  const total = blocks.reduce((a, b) => a + b, 0);
  // Aim for parts of even size rather than full ones and a small tail.
  const target = total / Math.ceil(total / limit);
  const cuts = [0];
  let size = 0;
  blocks.forEach((tokens, i) => {
    // A part too small to read alone (a heading over a big table, say)
    // takes the next block even past the limit.
    const bigEnough = size >= limit / 4;
    if (bigEnough && (size + tokens > limit || size >= target)) {
      cuts.push(starts[i]);
      size = 0;
    }
    size += tokens;
  });

  return cuts;
}

/** The parts of one section: its body cut where partStarts says. */
function splitSection(
  section: Omit<MarkdownSection, "part" | "parts">,
  limit: number,
): MarkdownSection[] {
  if (section.tokens <= limit) return [{ ...section, part: 1, parts: 1 }];
  const lines = section.body.split("\n");
  const cuts = partStarts(lines, limit);

  return cuts.map((start, i) => {
    const body = trimTrailingBlankLines(lines.slice(start, cuts[i + 1]));

    return {
      ...section,
      line: section.line + start,
      body,
      tokens: countTokens(body),
      headingLines: i === 0 ? section.headingLines : 0,
      part: i + 1,
      parts: cuts.length,
    };
  });
}

/** Part k of n of stored sections (in document order), worked out from
 * what the database keeps: a later part has its section's breadcrumb and
 * level, and its text does not start with a heading. */
export function sectionParts<
  T extends { headingPath: string; level: number; body: string },
>(sections: T[]): Array<T & { part: number; parts: number }> {
  const parts: number[] = [];
  sections.forEach((section, i) => {
    const previous = sections[i - 1];
    const continues =
      previous !== undefined &&
      previous.headingPath === section.headingPath &&
      previous.level === section.level &&
      (section.level === 0 ||
        findHeadings(section.body.split("\n"))[0]?.index !== 0);
    parts.push(continues ? parts[i - 1] + 1 : 1);
  });

  return sections.map((section, i) => {
    let last = i;
    while (parts[last + 1] === parts[last] + 1) last++;

    return { ...section, part: parts[i], parts: parts[last] };
  });
}

/** Finds a front matter block: its YAML and how many lines it spans. */
function splitFrontMatter(text: string): {
  yaml: string | null;
  lineCount: number;
} {
  const lines = text.split("\n");
  if (lines[0]?.trimEnd() !== "---") return { yaml: null, lineCount: 0 };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trimEnd();
    if (line === "---" || line === "...") {
      return { yaml: lines.slice(1, i).join("\n"), lineCount: i + 1 };
    }
  }

  // An opening rule that never closes is a thematic break, not front matter.
  return { yaml: null, lineCount: 0 };
}

/** Front matter may expand to at most this many characters and values
 * (or twice its YAML, if more): YAML aliases can repeat one value many
 * times over, and a few hundred bytes would otherwise store megabytes. */
export const frontMatterBudget = 100_000;

/** Why `text` cannot be stored as PostgreSQL text, or null if it can:
 * text and jsonb cannot hold NUL, and UTF-8 cannot encode half of a
 * surrogate pair. */
export function unstorableText(text: string): string | null {
  if (text.includes("\u0000")) return "contains a NUL character (U+0000)";
  if (!text.isWellFormed()) {
    return "contains an unpaired UTF-16 surrogate (not valid Unicode)";
  }

  return null;
}

/** Why parsed front matter cannot be stored, or null if it can. Walks the
 * value with a budget instead of serialising it, so aliases that expand a
 * thousandfold (or refer to themselves) stop the walk early. */
function frontMatterProblem(data: unknown, budget: number): string | null {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return "front matter is not a mapping of keys to values";
  }
  let left = budget;
  const pending: unknown[] = [data];
  while (pending.length > 0) {
    const value = pending.pop();
    left--;
    if (typeof value === "string") {
      left -= value.length;
      const problem = unstorableText(value);
      if (problem) return `front matter ${problem}`;
    } else if (
      typeof value === "object" &&
      value !== null &&
      !(value instanceof Date)
    ) {
      for (const [key, child] of Object.entries(value)) {
        left -= key.length;
        const problem = unstorableText(key);
        if (problem) return `front matter ${problem}`;
        pending.push(child);
      }
    }
    if (left < 0) {
      return `front matter expands to more than ${budget} characters`;
    }
  }

  return null;
}

function parseFrontMatter(yaml: string): {
  data: Record<string, unknown>;
  error: string | null;
} {
  let data: unknown;
  try {
    // An options object turns off gray-matter's cache keyed by input text.
    data = matter(`---\n${yaml}\n---\n`, {}).data;
  } catch (error) {
    return { data: {}, error: (error as Error).message.split("\n")[0] };
  }
  const budget = Math.max(frontMatterBudget, yaml.length * 2);
  const problem = frontMatterProblem(data, budget);
  if (problem) return { data: {}, error: problem };

  return { data: data as Record<string, unknown>, error: null };
}

function trimTrailingBlankLines(lines: string[]): string {
  let end = lines.length;
  while (end > 0 && lines[end - 1].trim() === "") end--;

  return lines.slice(0, end).join("\n");
}

export function documentTitle(
  frontMatter: Record<string, unknown>,
  headings: Heading[],
  fileName: string,
): string {
  const declared = frontMatter.title;
  if (typeof declared === "string" && declared.trim()) return declared.trim();
  const h1 = headings.find((h) => h.level === 1 && h.text);
  if (h1) return h1.text;

  return path.basename(fileName).replace(/\.(md|mdx|markdown)$/i, "");
}

export function sectionMarkdown(
  content: string,
  fileName: string,
  limit = maxSectionTokens,
): SectionedDocument {
  const text = content.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  const { yaml, lineCount: offset } = splitFrontMatter(text);
  const frontMatter = yaml === null ? null : parseFrontMatter(yaml);
  const allLines = text.split("\n");
  const lines = allLines.slice(offset);
  const headings = findHeadings(lines);
  const title = documentTitle(frontMatter?.data ?? {}, headings, fileName);
  const whole: Array<Omit<MarkdownSection, "part" | "parts">> = [];

  const firstHeading = headings[0]?.index ?? lines.length;
  const preamble = lines.slice(0, firstHeading);
  const firstText = preamble.findIndex((line) => line.trim() !== "");
  if (firstText >= 0) {
    const body = trimTrailingBlankLines(preamble.slice(firstText));
    whole.push({
      ordinal: 0,
      heading: title,
      headingPath: title,
      level: 0,
      line: offset + firstText + 1,
      body,
      tokens: countTokens(body),
      headingLines: 0,
    });
  }

  const stack: Heading[] = [];
  headings.forEach((heading, i) => {
    while (stack.length > 0 && stack[stack.length - 1].level >= heading.level) {
      stack.pop();
    }
    stack.push(heading);
    const crumbs = stack.map((h) => h.text);
    // The title leads the breadcrumb unless the top heading already is it.
    if (!(stack[0].level === 1 && stack[0].text === title)) {
      crumbs.unshift(title);
    }
    const end = headings[i + 1]?.index ?? lines.length;
    const body = trimTrailingBlankLines(lines.slice(heading.index, end));
    whole.push({
      ordinal: 0,
      heading: heading.text,
      headingPath: crumbs.join(" > "),
      level: heading.level,
      line: offset + heading.index + 1,
      body,
      tokens: countTokens(body),
      headingLines: heading.lineCount,
    });
  });
  const sections = whole
    .flatMap((section) => splitSection(section, limit))
    .map((section, ordinal) => ({ ...section, ordinal }));

  return {
    title,
    frontMatter: frontMatter?.data ?? {},
    frontMatterError: frontMatter?.error ?? null,
    sections,
    tokens: countTokens(content),
    lines: text.endsWith("\n") ? allLines.length - 1 : allLines.length,
  };
}
