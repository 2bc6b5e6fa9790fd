import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { sectionMarkdown } from "./sectioner";

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
});
