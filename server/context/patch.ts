import type { MarkdownSection } from "./sectioner";

// The text side of write-back: how a note's markdown is put together from
// its title and body, and how one section's body is replaced. Pure, so the
// tests call it directly.

/** `\r\n` and a bare `\r` become `\n`, as the sectioner reads them, so line
 * numbers it reports point at the same lines here. */
export const normaliseLineBreaks = (text: string) =>
  text.replace(/\r\n?/g, "\n");

/** The text with blank lines cut from its start and whitespace from its
 * end; the first line's indentation stays (it may be indented code). */
export const trimBlankLines = (text: string) =>
  normaliseLineBreaks(text)
    .replace(/^(?:[ \t\f\v]*\n)+/, "")
    .trimEnd();

/** Characters that end a line for the sectioner's heading pattern (`.`
 * in a JavaScript regular expression), so no heading can hold one. */
export const lineTerminator = /[\n\r\u2028\u2029]/;

/** The title as the text of an ATX heading that reads back as the same
 * title: a run of #s at its end (or a title of #s only) would be taken for
 * the heading's closing sequence, so its first # is escaped. */
export function headingLineText(title: string): string {
  if (/^#+$/.test(title)) return `\\${title}`;

  return title.replace(/([ \t])(#+)$/, "$1\\$2");
}

/** A note's markdown: the title as its only level-1 heading, then the
 * body. */
export const noteContent = (title: string, body: string) =>
  `# ${headingLineText(title)}\n\n${trimBlankLines(body)}\n`;

const normaliseHeading = (text: string) =>
  text.replace(/\s+/g, " ").trim().toLowerCase();

/** Each section's heading path as its list of headings: the ones above it
 * and its own. The title is left out; the full path covers it. */
function headingChains(sections: MarkdownSection[]): Map<number, string[]> {
  const chains = new Map<number, string[]>();
  const stack: MarkdownSection[] = [];
  for (const section of sections) {
    if (section.level === 0 || section.part > 1) continue;
    while (stack.length > 0 && stack[stack.length - 1].level >= section.level) {
      stack.pop();
    }
    stack.push(section);
    chains.set(
      section.ordinal,
      stack.map((s) => s.heading),
    );
  }

  return chains;
}

/** The sections a heading names: by its whole text, or by the end of its
 * heading path ("Deploys > Rollback"). Only " > " separates the headings
 * of a path, and only at their boundaries, so "a>b" is one heading and
 * "y" does not name the heading "x > y". Leading #s are ignored. */
export function matchHeading(
  sections: MarkdownSection[],
  heading: string,
): MarkdownSection[] {
  const wanted = normaliseHeading(heading.replace(/^#+\s*/, ""));
  const chains = headingChains(sections);

  return sections.filter((section) => {
    // The text before the first heading has no heading line to keep; a
    // later part of a long section is patched through its first part.
    const chain = chains.get(section.ordinal);
    if (!chain || section.level === 0 || section.part > 1) return false;
    if (normaliseHeading(section.headingPath) === wanted) return true;

    return chain.some(
      (_, start) => normaliseHeading(chain.slice(start).join(" > ")) === wanted,
    );
  });
}

/** `content` with the body under one section's heading replaced; the
 * heading's lines stay, the section (every part of it, when it was split
 * for length) ends where the next heading starts. `sections` must come
 * from sectioning `content`. */
export function replaceSectionBody(
  content: string,
  sections: MarkdownSection[],
  section: MarkdownSection,
  body: string,
): string {
  const lines = normaliseLineBreaks(content).split("\n");
  const start = section.line - 1;
  const next = sections.find(
    (s) => s.ordinal > section.ordinal && s.part === 1,
  );
  const end = next ? next.line - 1 : lines.length;
  const text = trimBlankLines(body);
  const middle = text ? ["", ...text.split("\n"), ""] : [""];
  const joined = [
    ...lines.slice(0, start + Math.max(section.headingLines, 1)),
    ...middle,
    ...lines.slice(end),
  ].join("\n");

  return `${joined.replace(/\n+$/, "")}\n`;
}
