import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { leavesFenceOpen, sectionMarkdown, sectionParts } from "./sectioner";

const doc = [
  "---",
  "title: Caching",
  "description: How caching works",
  "---",
  "",
  "Intro text before any heading.",
  "",
  "## Revalidation",
  "",
  "Revalidate data.",
  "",
  "### revalidateTag",
  "",
  "````md",
  "```js",
  "# not a heading inside a nested fence",
  "```",
  "## still not a heading",
  "````",
  "",
  "~~~",
  "### nor this",
  "~~~",
  "",
  "#### Deep ##",
  "deep text",
  "",
  "## Other",
  "other text",
].join("\n");

describe("sectionMarkdown", () => {
  const result = sectionMarkdown(doc, "docs/caching.md");

  it("parses front matter and takes the title from it", () => {
    expect(result.title).toBe("Caching");
    expect(result.frontMatter).toEqual({
      title: "Caching",
      description: "How caching works",
    });
    expect(result.frontMatterError).toBeNull();
  });

  it("splits at headings outside fences, nested fences included", () => {
    expect(result.sections.map((s) => s.heading)).toEqual([
      "Caching",
      "Revalidation",
      "revalidateTag",
      "Deep",
      "Other",
    ]);
  });

  it("builds breadcrumbs, levels and original line numbers", () => {
    const rows = result.sections.map((s) => [s.headingPath, s.level, s.line]);
    expect(rows).toEqual([
      ["Caching", 0, 6],
      ["Caching > Revalidation", 2, 8],
      ["Caching > Revalidation > revalidateTag", 3, 12],
      ["Caching > Revalidation > revalidateTag > Deep", 4, 25],
      ["Caching > Other", 2, 28],
    ]);
    const lines = doc.split("\n");
    for (const section of result.sections.slice(1)) {
      expect(lines[section.line - 1]).toContain(section.heading);
    }
  });

  it("keeps the fenced text in its section and counts tokens", () => {
    const tag = result.sections[2];
    expect(tag.body).toContain("# not a heading inside a nested fence");
    expect(tag.body).toContain("### nor this");
    expect(tag.body.endsWith("~~~")).toBe(true);
    for (const section of result.sections) {
      expect(section.tokens).toBeGreaterThan(0);
    }
    expect(result.tokens).toBeGreaterThan(
      result.sections.reduce((sum, s) => sum + s.tokens, 0) - 5,
    );
  });

  it("falls back to the first H1, then the file name, for the title", () => {
    const h1 = sectionMarkdown("# Guide\n\ntext\n\n## Part\nmore\n", "g.md");
    expect(h1.title).toBe("Guide");
    expect(h1.sections.map((s) => s.headingPath)).toEqual([
      "Guide",
      "Guide > Part",
    ]);
    const bare = sectionMarkdown("just text\n", "notes/todo.mdx");
    expect(bare.title).toBe("todo");
    expect(bare.sections).toHaveLength(1);
    expect(bare.sections[0]).toMatchObject({ level: 0, line: 1 });
  });

  it("does not treat hashtags, 7 hashes or an unclosed rule as structure", () => {
    const text = "---\n#tag\n####### seven\n# Real\n";
    const result = sectionMarkdown(text, "x.md");
    expect(result.frontMatter).toEqual({});
    expect(result.sections.map((s) => [s.heading, s.line])).toEqual([
      ["Real", 1],
      ["Real", 4],
    ]);
  });

  it("reports invalid front matter instead of failing", () => {
    const result = sectionMarkdown("---\ntitle: [oops\n---\n# A\n", "a.md");
    expect(result.frontMatterError).toBeTruthy();
    expect(result.sections[0]).toMatchObject({ heading: "A", line: 4 });
  });

  it("handles CRLF line endings", () => {
    const result = sectionMarkdown("# A\r\ntext\r\n## B\r\nmore\r\n", "a.md");
    expect(result.sections.map((s) => [s.heading, s.line, s.body])).toEqual([
      ["A", 1, "# A\ntext"],
      ["B", 3, "## B\nmore"],
    ]);
  });

  const corpus = path.resolve("../shared/corpora/nextjs-docs-16.5.0");
  it.runIf(fs.existsSync(corpus))("finds gold headings at their lines", () => {
    const file = "app/api-reference/functions/forbidden.md";
    const text = fs.readFileSync(path.join(corpus, file), "utf8");
    const result = sectionMarkdown(text, file);
    const good = result.sections.find((s) => s.heading === "Good to know");
    expect(good?.line).toBe(75);
    expect(good?.headingPath).toBe("forbidden > Good to know");
  });

  it("reads setext headings, one line or several, outside fences", () => {
    const text = [
      "---",
      "title: Guide",
      "---",
      "Overview",
      "========",
      "intro",
      "",
      "Install the",
      "package",
      "---",
      "npm i",
      "",
      "```",
      "not a heading",
      "---",
      "```",
    ].join("\n");
    const result = sectionMarkdown(text, "guide.md");
    expect(
      result.sections.map((s) => [s.headingPath, s.level, s.line]),
    ).toEqual([
      ["Guide > Overview", 1, 4],
      ["Guide > Overview > Install the package", 2, 8],
    ]);
    expect(result.sections[1].headingLines).toBe(3);
    expect(result.sections[1].body).toContain("not a heading\n---");
  });

  it("takes --- after a blank line, a list item or a quote as a rule", () => {
    const text = [
      "# Notes",
      "",
      "---",
      "",
      "- first item",
      "  continued",
      "---",
      "> quoted",
      "---",
      "1. step",
      "---",
      "<Image />",
      "---",
    ].join("\n");
    const result = sectionMarkdown(text, "notes.md");
    expect(result.sections.map((s) => s.heading)).toEqual(["Notes"]);
  });

  const paragraph = (n: number) =>
    `Paragraph ${n} says something about caching that takes a few ` +
    `dozen tokens, so that a long section needs several of them to ` +
    `pass the limit of the sectioner for one part.`;

  it("splits a long section at blank lines, keeping its breadcrumb", () => {
    const body = Array.from({ length: 12 }, (_, i) => paragraph(i + 1));
    const text = [
      "# Caching",
      "",
      "## Revalidation",
      "",
      ...body.flatMap((p) => [p, ""]),
      "## After",
      "end",
    ].join("\n");
    const result = sectionMarkdown(text, "caching.md", 150);
    const parts = result.sections.filter(
      (s) => s.headingPath === "Caching > Revalidation",
    );
    expect(parts.length).toBeGreaterThan(2);
    const lines = text.split("\n");
    parts.forEach((part, i) => {
      expect(part).toMatchObject({
        heading: "Revalidation",
        part: i + 1,
        parts: parts.length,
      });
      expect(part.tokens).toBeLessThanOrEqual(150);
      // The part's line is where its text starts in the file.
      expect(lines[part.line - 1]).toBe(part.body.split("\n")[0]);
    });
    expect(parts[0].body.startsWith("## Revalidation")).toBe(true);
    expect(parts[1].body.startsWith("Paragraph")).toBe(true);
    // Nothing is lost or repeated between the parts.
    expect(parts.map((p) => p.body).join("\n\n")).toBe(
      ["## Revalidation", ...body].join("\n\n"),
    );
    expect(result.sections.map((s) => s.ordinal)).toEqual(
      result.sections.map((_, i) => i),
    );
    expect(result.sections.at(-1)).toMatchObject({
      heading: "After",
      parts: 1,
    });
  });

  it("never cuts inside a code fence, even one over the limit", () => {
    const code = Array.from(
      { length: 60 },
      (_, i) => `const value${i} = compute(${i});\n`,
    ).join("\n");
    const text = `## Example\n\n${paragraph(1)}\n\n\`\`\`js\n${code}\`\`\`\n\n${paragraph(2)}\n`;
    const result = sectionMarkdown(text, "example.md", 150);
    const withFence = result.sections.filter((s) => s.body.includes("```"));
    expect(withFence).toHaveLength(1);
    expect(withFence[0].body.match(/```/g)).toHaveLength(2);
    expect(result.sections.length).toBeGreaterThan(1);
  });

  it("keeps a heading with the big block under it", () => {
    const rows = Array.from(
      { length: 40 },
      (_, i) => `| ${i} | row ${i} of a table that is one block |`,
    ).join("\n");
    const text = `## Version history\n\n| v | change |\n| - | - |\n${rows}\n\n${paragraph(1)}\n`;
    const result = sectionMarkdown(text, "history.md", 150);
    expect(result.sections[0].body).toContain("| 39 | row 39");
    expect(result.sections[0].body.startsWith("## Version history")).toBe(true);
  });

  it("tells stored parts apart from sections that repeat a heading", () => {
    const body = Array.from({ length: 8 }, (_, i) => paragraph(i)).join("\n\n");
    const text = `# A\n\n## Example\n\n${body}\n\n## Example\n\nshort\n`;
    const { sections } = sectionMarkdown(text, "a.md", 150);
    const stored = sections.map(({ headingPath, level, body }) => ({
      headingPath,
      level,
      body,
    }));
    expect(sectionParts(stored).map((s) => [s.part, s.parts])).toEqual(
      sections.map((s) => [s.part, s.parts]),
    );
    expect(sections.at(-1)).toMatchObject({
      body: "## Example\n\nshort",
      part: 1,
    });
  });
});

/** YAML whose every level lists the one above ten times: `depth` levels
 * expand to 10^depth copies of the first. */
function billionLaughs(depth: number): string {
  const lines = ['a0: &a0 ["lol"]'];
  for (let level = 1; level <= depth; level++) {
    const previous = Array(10)
      .fill(`*a${level - 1}`)
      .join(",");
    lines.push(`a${level}: &a${level} [${previous}]`);
  }

  return `---\n${lines.join("\n")}\n---\n# Laughs\n`;
}

describe("front matter that cannot be stored", () => {
  it("keeps front matter that refers to itself a little", () => {
    const text = "---\nbase: &b {x: 1}\nother: *b\n---\n# A\n";
    const result = sectionMarkdown(text, "a.md");
    expect(result.frontMatter).toEqual({ base: { x: 1 }, other: { x: 1 } });
    expect(result.frontMatterError).toBeNull();
  });

  it("drops aliases that would expand a thousandfold", () => {
    for (const depth of [6, 9]) {
      const result = sectionMarkdown(billionLaughs(depth), "laughs.md");
      expect(result.frontMatter).toEqual({});
      expect(result.frontMatterError).toMatch(/expands to more than/);
      expect(result.title).toBe("Laughs");
    }
  });

  it("drops front matter that contains itself", () => {
    const result = sectionMarkdown("---\na: &x\n  b: *x\n---\n", "loop.md");
    expect(result.frontMatter).toEqual({});
    expect(result.frontMatterError).toMatch(/expands to more than/);
  });

  it("drops NUL and unpaired surrogates, in values and in keys", () => {
    for (const yaml of [
      'title: "\\0"',
      'title: "a\\x00b"',
      'list: ["\\ud800"]',
      '"k\\0": 1',
    ]) {
      const result = sectionMarkdown(`---\n${yaml}\n---\n# Kept\n`, "x.md");
      expect([yaml, result.frontMatter]).toEqual([yaml, {}]);
      expect(result.frontMatterError).toMatch(/NUL|surrogate/);
      expect(result.title).toBe("Kept");
    }
  });

  it("drops front matter that is not a mapping", () => {
    const result = sectionMarkdown("---\njust words\n---\n# A\n", "a.md");
    expect(result.frontMatter).toEqual({});
    expect(result.frontMatterError).toMatch(/not a mapping/);
  });
});

describe("leavesFenceOpen", () => {
  it("tells a text that opens a fence without closing it", () => {
    expect(leavesFenceOpen("```bash\nmake deploy")).toBe(true);
    expect(leavesFenceOpen("~~~\ncode\n```")).toBe(true);
    expect(leavesFenceOpen("````\n```\n```")).toBe(true);
  });

  it("accepts closed fences, inline code and plain text", () => {
    expect(leavesFenceOpen("```bash\nmake deploy\n```")).toBe(false);
    expect(leavesFenceOpen("Run ```make``` inline.")).toBe(false);
    expect(leavesFenceOpen("text\r\n```\r\ncode\r\n```")).toBe(false);
    expect(leavesFenceOpen("")).toBe(false);
  });
});
