import path from "node:path";
import matter from "gray-matter";
import { countTokens } from "./tokens";

// Splits a markdown document into sections at its ATX headings. Pure: no
// database, no file system; the indexer and the tests call it directly.

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
  /** The section's markdown, heading line included, trailing blanks cut. */
  body: string;
  tokens: number;
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

function headingText(raw: string | undefined): string {
  const text = (raw ?? "").trim();
  if (/^#+$/.test(text)) return "";

  // An optional closing run of hashes must follow a space.
  return text.replace(/[ \t]+#+$/, "").trim();
}

/** Headings outside code fences, by 0-based line index. */
export function findHeadings(lines: string[]): Heading[] {
  const headings: Heading[] = [];
  let fence: Fence | null = null;
  lines.forEach((line, index) => {
    if (fence) {
      if (closesFence(line, fence)) fence = null;

      return;
    }
    const opened = openedFence(line);
    if (opened) {
      fence = opened;

      return;
    }
    const match = atxHeading.exec(line);
    if (match) {
      headings.push({
        index,
        level: match[1].length,
        text: headingText(match[2]),
      });
    }
  });

  return headings;
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

function parseFrontMatter(yaml: string): {
  data: Record<string, unknown>;
  error: string | null;
} {
  try {
    // An options object turns off gray-matter's cache keyed by input text.
    const parsed = matter(`---\n${yaml}\n---\n`, {});

    return { data: parsed.data as Record<string, unknown>, error: null };
  } catch (error) {
    return { data: {}, error: (error as Error).message.split("\n")[0] };
  }
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
): SectionedDocument {
  const text = content.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  const { yaml, lineCount: offset } = splitFrontMatter(text);
  const frontMatter = yaml === null ? null : parseFrontMatter(yaml);
  const allLines = text.split("\n");
  const lines = allLines.slice(offset);
  const headings = findHeadings(lines);
  const title = documentTitle(frontMatter?.data ?? {}, headings, fileName);
  const sections: MarkdownSection[] = [];

  const firstHeading = headings[0]?.index ?? lines.length;
  const preamble = lines.slice(0, firstHeading);
  const firstText = preamble.findIndex((line) => line.trim() !== "");
  if (firstText >= 0) {
    const body = trimTrailingBlankLines(preamble.slice(firstText));
    sections.push({
      ordinal: 0,
      heading: title,
      headingPath: title,
      level: 0,
      line: offset + firstText + 1,
      body,
      tokens: countTokens(body),
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
    sections.push({
      ordinal: sections.length,
      heading: heading.text,
      headingPath: crumbs.join(" > "),
      level: heading.level,
      line: offset + heading.index + 1,
      body,
      tokens: countTokens(body),
    });
  });

  return {
    title,
    frontMatter: frontMatter?.data ?? {},
    frontMatterError: frontMatter?.error ?? null,
    sections,
    tokens: countTokens(content),
    lines: text.endsWith("\n") ? allLines.length - 1 : allLines.length,
  };
}
