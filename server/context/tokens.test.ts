import fs from "node:fs";
import path from "node:path";
import { countTokens as countO200k } from "gpt-tokenizer/encoding/o200k_base";
import { describe, expect, it } from "vitest";
import { countTokens } from "./tokens";

// The count must equal the tokenizer's own on real text, and stay close to
// it on text it cuts into pieces to keep the work linear.

const asPlainText = { disallowedSpecial: new Set<string>() };
const exact = (text: string) => countO200k(text, asPlainText);

function filesUnder(folder: string, name: RegExp): string[] {
  return fs
    .readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && name.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** Pseudo-random text from `alphabet`, the same on every run. */
function scrambled(alphabet: string[], length: number): string {
  let seed = 7;
  let text = "";
  for (let i = 0; i < length; i++) {
    seed = (seed * 48271) % 2147483647;
    text += alphabet[seed % alphabet.length];
  }

  return text;
}

function expectClose(count: number, reference: number, tolerance: number) {
  expect(Math.abs(count - reference) / reference).toBeLessThan(tolerance);
}

describe("countTokens", () => {
  it("counts empty text, prose and special-token text", () => {
    expect(countTokens("")).toBe(0);
    expect(countTokens("Hello world")).toBe(exact("Hello world"));
    expect(countTokens("before <|endoftext|> after")).toBe(
      exact("before <|endoftext|> after"),
    );
  });

  it("counts this repository's documents and code exactly", () => {
    const files = [
      "README.md",
      "docs/events.md",
      ...filesUnder("tests", /\.ts$/),
      ...filesUnder("server/context", /\.ts$/),
    ];
    for (const file of files) {
      const text = fs.readFileSync(file, "utf8");
      expect([file, countTokens(text)]).toEqual([file, exact(text)]);
    }
  });

  const corpus = path.resolve("../shared/corpora/nextjs-docs-16.5.0");
  it.runIf(fs.existsSync(corpus))(
    "counts every corpus page exactly, wide tables included",
    () => {
      for (const file of filesUnder(corpus, /\.mdx?$/)) {
        const text = fs.readFileSync(file, "utf8");
        expect([file, countTokens(text)]).toEqual([file, exact(text)]);
      }
    },
  );

  it("counts a long run without spaces close to the exact count", () => {
    const letters = scrambled([..."abcdefghijklmnopqrstuvwxyz"], 6000);
    expectClose(countTokens(letters), exact(letters), 0.03);
    const emoji = scrambled(["😀", "🚀", "🎉", "🔥", "✨", "🍕"], 1500);
    expectClose(countTokens(emoji), exact(emoji), 0.03);
    const han = scrambled([..."的一是不了人我在有他这中大来上个国"], 3000);
    expectClose(countTokens(han), exact(han), 0.03);
  });

  it("counts 200,000 characters without a space", () => {
    // Whole, this run would take the tokenizer most of a minute.
    const run = "y".repeat(200_000);
    expectClose(countTokens(run), exact("y".repeat(10_000)) * 20, 0.01);
    const spaces = `a${" ".repeat(200_000)}b`;
    expectClose(countTokens(spaces), exact(" ".repeat(10_000)) * 20, 0.05);
  });

  it("keeps characters outside the basic plane whole", () => {
    // Each emoji here is one token of its own, so the count is exact even
    // in pieces, as long as no piece ends in the middle of one. Two
    // letters first would put a piece's end there.
    const emoji = (n: number) => `ab${"😀".repeat(n)}`;
    expect(exact(emoji(1000))).toBe(exact(emoji(1)) + 999);
    expect(countTokens(emoji(99_990))).toBe(exact(emoji(1)) + 99_989);
  });
});
