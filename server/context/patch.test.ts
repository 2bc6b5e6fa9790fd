import { describe, expect, it } from "vitest";
import { matchHeading, replaceSectionBody } from "./notes";
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
