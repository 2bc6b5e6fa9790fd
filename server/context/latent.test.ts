import { describe, expect, it } from "vitest";
import {
  buildLatentSpace,
  cosine,
  latentLimits,
  placeQuestion,
  type SectionWords,
} from "./latent";

// Latent semantic analysis of sections: words used in the same sections
// end up close, so a question lands near the sections of its topic even
// where they do not share its words.

const topics = {
  fonts: ["font", "glyph", "serif", "italic", "kerning", "typeset"],
  caching: ["cache", "purge", "stale", "ttl", "revalidate", "evict"],
  routing: ["route", "segment", "slug", "param", "redirect", "rewrite"],
};

/** Sections of one topic each: four of its words (different ones from
 * section to section) and a few words every topic uses. */
function corpus(perTopic: number): SectionWords[] {
  const sections: SectionWords[] = [];
  for (const [topic, words] of Object.entries(topics)) {
    for (let i = 0; i < perTopic; i++) {
      const lexemes = [0, 1, 2, 3].map((j) => words[(i + j) % words.length]);
      lexemes.push("page", "build", `${topic}${i % 7}`);
      sections.push({
        id: `${topic}-${i}`,
        lexemes,
        counts: lexemes.map(() => 1),
        heading: lexemes.map((_, j) => j === 0),
      });
    }
  }

  return sections;
}

describe("latent space", () => {
  it("places a question near its topic's sections, even those without its words", async () => {
    // Three topics, three dimensions: fewer dimensions than words is what
    // brings a topic's words together (the documents' space keeps a few
    // hundred of tens of thousands).
    const space = await buildLatentSpace(corpus(150), {
      ...latentLimits,
      dims: 3,
    });
    expect(space?.dims).toBe(3);
    if (!space) return;
    const point = placeQuestion(space, [
      { lexeme: "glyph", weight: 1 },
      { lexeme: "serif", weight: 1 },
    ]);
    // fonts-3 holds italic, kerning, typeset and font: neither word.
    const without = space.sections.get("fonts-3")!;
    expect(cosine(point, without)).toBeGreaterThan(0.5);
    for (const other of ["caching-3", "routing-3"]) {
      expect(cosine(point, space.sections.get(other)!)).toBeLessThan(0.2);
    }
  });

  it("gives the same space for the same sections", async () => {
    const [a, b] = await Promise.all([
      buildLatentSpace(corpus(150)),
      buildLatentSpace(corpus(150)),
    ]);
    expect(a!.sections.get("caching-7")).toEqual(b!.sections.get("caching-7"));
  });

  it("has no space for too few sections to tell topics apart", async () => {
    expect(await buildLatentSpace(corpus(20))).toBeNull();
  });
});
