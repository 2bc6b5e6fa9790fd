import { describe, expect, it } from "vitest";
import {
  matchHeading,
  noteContent,
  replaceSectionBody,
  trimBlankLines,
} from "./patch";
import { sectionMarkdown } from "./sectioner";

// Patching a section by its heading when the sectioner split it for length
// or the heading is a setext one: the whole section's body is replaced and
// the heading's lines are kept.

const paragraph = (n: number) =>
  `Step ${n} of the rollback runbook explains what to check before you ` +
  `roll back a deploy, which dashboards to open, whom to tell, and how ` +
  `long to wait before the next step, in plain words for the on-call.`;

describe("patching split and setext sections", () => {
  it("replaces every part of a long section and keeps the next heading", () => {
    const steps = Array.from({ length: 40 }, (_, i) => paragraph(i));
    const content = `# Deploys\n\n## Rollback\n\n${steps.join("\n\n")}\n\n## Alerts\n\npage the on-call\n`;
    const { sections } = sectionMarkdown(content, "deploys.md");
    expect(
      sections.filter((s) => s.heading === "Rollback").length,
    ).toBeGreaterThan(1);

    const matches = matchHeading(sections, "Rollback");
    expect(matches).toHaveLength(1);
    const patched = replaceSectionBody(
      content,
      sections,
      matches[0],
      "Run the rollback job.",
    );
    expect(patched).toBe(
      "# Deploys\n\n## Rollback\n\nRun the rollback job.\n\n## Alerts\n\npage the on-call\n",
    );
  });

  it("keeps a setext heading's text and underline", () => {
    const content = "Deploys\n=======\n\nRollback\n--------\nold text\n";
    const { sections } = sectionMarkdown(content, "deploys.md");
    const [rollback] = matchHeading(sections, "Deploys > Rollback");
    expect(replaceSectionBody(content, sections, rollback, "new text")).toBe(
      "Deploys\n=======\n\nRollback\n--------\n\nnew text\n",
    );
  });
});

describe("line breaks, indentation and headings with >", () => {
  it("replaces the named section of a text with bare CR line breaks", () => {
    const content = "# CR\n\n## A\r\rtext a\r\r## B\r\rtext b\n";
    const { sections } = sectionMarkdown(content, "cr.md");
    const [b] = matchHeading(sections, "B");
    expect(replaceSectionBody(content, sections, b, "NEW B")).toBe(
      "# CR\n\n## A\n\ntext a\n\n## B\n\nNEW B\n",
    );
  });

  it("keeps the first line's indentation and cuts only blank lines", () => {
    expect(trimBlankLines("\r\n  \n    code\r\n\ntext  \n\n")).toBe(
      "    code\n\ntext",
    );
    const content = "# T\n\n## A\n\nold\n";
    const { sections } = sectionMarkdown(content, "t.md");
    const [a] = matchHeading(sections, "A");
    expect(replaceSectionBody(content, sections, a, "\n    code\n")).toBe(
      "# T\n\n## A\n\n    code\n",
    );
  });

  it("writes a title that reads back as itself", () => {
    for (const title of ["##", "#", "Use C #", "Use C\t##", "C# and F#"]) {
      const content = noteContent(title, "# Evil title\n\nBody.");
      const { title: read } = sectionMarkdown(content, "fallback.md");
      // The heading keeps the escape as written; unescaped it is the title.
      expect(read.replace(/\\#/, "#")).toBe(title);
    }
  });

  it("splits heading paths only at ' > ' between whole headings", () => {
    const content =
      "# GT\n\n## a>b\n\nab\n\n## x > y\n\nxy\n\n## y\n\nplain y\n";
    const { sections } = sectionMarkdown(content, "gt.md");
    const paths = (name: string) =>
      matchHeading(sections, name).map((s) => s.headingPath);
    expect(paths("a>b")).toEqual(["GT > a>b"]);
    expect(paths("GT > a>b")).toEqual(["GT > a>b"]);
    expect(paths("a > b")).toEqual([]);
    expect(paths("y")).toEqual(["GT > y"]);
    expect(paths("x > y")).toEqual(["GT > x > y"]);
    expect(paths("GT  >  x > y")).toEqual(["GT > x > y"]);
    expect(paths("## y")).toEqual(["GT > y"]);
  });
});
