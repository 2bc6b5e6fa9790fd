import { describe, expect, it } from "vitest";
import {
  firstOverlap,
  normalizeGlob,
  pathMatches,
  rootsOverlap,
  scopeRoot,
  scopeRoots,
} from "./scopes";

// How scope globs are compared: cautiously by their roots when two holds
// meet, precisely by matching when a concrete file is edited.

describe("normalizeGlob", () => {
  it.each([
    ["./src/api/**", "src/api/**"],
    ["/src/api/", "src/api"],
    ["  docs//guide///intro.md ", "docs/guide/intro.md"],
    ["././package.json", "package.json"],
    ["**/*.ts", "**/*.ts"],
  ])("%j becomes %j", (glob, normalized) => {
    expect(normalizeGlob(glob)).toBe(normalized);
  });
});

describe("scopeRoot", () => {
  it.each([
    ["src/api/**", "src/api"],
    ["src/*.ts", "src"],
    ["docs/api.md", "docs/api.md"],
    ["**/*.ts", ""],
    ["*", ""],
    ["src/{api,web}/**", "src"],
    ["src/file?.ts", "src"],
    ["src/[ab]/x.ts", "src"],
    ["./src/api/", "src/api"],
  ])("the root of %j is %j", (glob, root) => {
    expect(scopeRoot(glob)).toBe(root);
  });

  it("lists each root once", () => {
    expect(scopeRoots(["src/*.ts", "src/*.md", "docs/**"])).toEqual([
      "src",
      "docs",
    ]);
  });
});

describe("rootsOverlap", () => {
  it.each([
    ["src", "src", true],
    ["src", "src/api", true],
    ["src/api", "src", true],
    ["", "docs", true],
    ["src/api", "src/web", false],
    // A shared prefix is not a shared folder.
    ["src/api", "src/api-v2", false],
    ["docs", "src", false],
  ])("%j and %j: %s", (a, b, overlap) => {
    expect(rootsOverlap(a, b)).toBe(overlap);
  });

  it("names the first overlapping pair, or null", () => {
    expect(firstOverlap(["docs", "src/api"], ["src"])).toEqual({
      ours: "src/api",
      theirs: "src",
    });
    expect(firstOverlap(["docs"], ["src", "lib"])).toBeNull();
  });
});

describe("pathMatches", () => {
  it.each([
    ["src/x.ts", "src/*.ts", true],
    ["src/api/x.ts", "src/*.ts", false],
    ["src/api/x.ts", "src/**", true],
    ["src/api/deep/x.ts", "src/**/*.ts", true],
    ["src/x.ts", "src/**/*.ts", true],
    ["lib/x.ts", "**/*.ts", true],
    ["lib/x.md", "**/*.ts", false],
    ["docs/api.md", "docs/api.md", true],
    ["docs/api.md.bak", "docs/api.md", false],
    // A glob naming a folder covers the files inside it.
    ["docs/guide/intro.md", "docs/guide", true],
    ["src/api/x.ts", "src/{api,web}/*.ts", true],
    ["src/cli/x.ts", "src/{api,web}/*.ts", false],
    ["src/file1.ts", "src/file?.ts", true],
    ["src/file10.ts", "src/file?.ts", false],
    ["src/a/x.ts", "src/[ab]/x.ts", true],
    ["src/c/x.ts", "src/[!ab]/x.ts", true],
    ["src/a/x.ts", "src/[!ab]/x.ts", false],
    ["./src/x.ts", "/src/*.ts", true],
    // Regular-expression characters in names are literal.
    ["src/a+b.ts", "src/a+b.ts", true],
    ["src/aab.ts", "src/a+b.ts", false],
    // Brackets in a real file name: the glob spelling the path holds it.
    ["app/[slug]/page.tsx", "app/[slug]/page.tsx", true],
    ["app/[slug]/page.tsx", "app/[slug]", true],
  ])("%j against %j: %s", (path, glob, matches) => {
    expect(pathMatches(path, glob)).toBe(matches);
  });
});

describe("pathMatches on hostile globs", () => {
  it("treats a backwards character range as matching nothing, without throwing", () => {
    expect(pathMatches("src/a.ts", "[z-a]")).toBe(false);
    expect(pathMatches("rx/b.ts", "rx/[z-a].ts")).toBe(false);
    expect(pathMatches("rx/[z-a].ts", "rx/[z-a].ts")).toBe(true);
  });

  it("answers at once for stacked ** and many stars on long paths", () => {
    const deep = `${"a/".repeat(200)}b`;
    expect(pathMatches(deep, "**/**/**/**/**/**/**/**/zz")).toBe(false);
    expect(pathMatches(deep, "**/a/**/a/**/a/**/a/**/b")).toBe(true);
    expect(pathMatches(`x/${"a".repeat(250)}`, "x/*a*a*a*a*a*a*b")).toBe(false);
    // A backtracking regular expression takes minutes on these and the
    // test runner's timeout fails the test.
  });
});
