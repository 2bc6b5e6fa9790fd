import { describe, expect, it } from "vitest";
import { describeAnswer } from "@/cli/commands/ask";
import { describeReadAs } from "./read-as";

// A person reading an answer sees which words were read as others.

describe("how the question was read", () => {
  it("lists each word read as another, with why", () => {
    expect(
      describeReadAs([
        { word: "typeface", as: "font", why: "synonym" },
        { word: "exlude", as: "exclud…", why: "spelling" },
      ]),
    ).toBe(
      'Read "typeface" as "font" (synonym), "exlude" as "exclud…" (spelling)',
    );
  });

  it("says nothing when every word was read as written", () => {
    expect(describeReadAs([])).toBeNull();
    expect(describeReadAs(undefined)).toBeNull();
  });

  it("is shown by the CLI under the answer's pointer and under a no-answer", () => {
    const pointer = {
      path: "guides/fonts.md",
      source: "docs",
      heading: "Google fonts",
      headingPath: "Fonts > Google fonts",
      line: 3,
      score: 2,
      version: "",
      status: "canonical",
    };
    const readAs = [{ word: "typeface", as: "font", why: "synonym" as const }];
    const shown = describeAnswer({
      ...pointer,
      answered: true,
      question: "download a typeface",
      tier: "section",
      sectionId: "s1",
      text: "Fonts from Google are downloaded at build time.",
      tokens: 10,
      servedTokens: 10,
      sectionTokens: 10,
      documentTokens: 40,
      top3Tokens: 90,
      documentTitle: "Fonts",
      statusReason: null,
      coverage: 1,
      readAs,
      alternatives: [],
    });
    expect(shown.split("\n").slice(0, 2)).toEqual([
      "guides/fonts.md:3 Fonts > Google fonts",
      'Read "typeface" as "font" (synonym)',
    ]);
    expect(
      describeAnswer({
        answered: false,
        question: "typeface kerning",
        tier: "section",
        reason: "No section contains the question's words",
        readAs,
        alternatives: [pointer],
      }),
    ).toBe(
      [
        "No answer: No section contains the question's words",
        'Read "typeface" as "font" (synonym)',
        "  also: guides/fonts.md:3 Fonts > Google fonts",
      ].join("\n"),
    );
  });
});
