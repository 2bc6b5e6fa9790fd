import { describe, expect, it } from "vitest";
import {
  classifyDocuments,
  compareVersions,
  normalisePath,
  similarity,
  textSignature,
  type ClassifiedInput,
} from "./status";

// The status rules one by one, on small fixed documents.

const words = (seed: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${seed}${i % 97}w${i}`).join(" ");

const routeText = `Route handlers let you create custom request handlers for a
given route using the Web Request and Response APIs. ${words("route", 120)}`;
const cachingText = `Caching stores the result of data fetching and rendering
so it does not have to be done again. ${words("cache", 120)}`;

let nextId = 0;
function doc(partial: Partial<ClassifiedInput> & { path: string }) {
  nextId++;

  return {
    id: `doc-${nextId}`,
    version: "",
    title: partial.path,
    frontMatter: null,
    signature: [],
    modifiedAt: new Date("2026-11-01T00:00:00Z"),
    override: null,
    overrideReason: null,
    ...partial,
  } satisfies ClassifiedInput;
}

describe("normalisePath", () => {
  it("drops numeric prefixes, extensions and index files", () => {
    expect(normalisePath("01-app/03-api-reference/route.md")).toBe(
      "app/api-reference/route",
    );
    expect(normalisePath("app/api-reference/route.mdx")).toBe(
      "app/api-reference/route",
    );
    expect(normalisePath("01-app/01-getting-started/index.md")).toBe(
      "app/getting-started",
    );
    expect(normalisePath("index.md")).toBe("index");
  });
});

describe("compareVersions", () => {
  it("orders versions by number, part by part", () => {
    expect(compareVersions("16.10.0", "16.2.0")).toBeGreaterThan(0);
    expect(compareVersions("16.2.0", "16.5.0")).toBeLessThan(0);
    expect(compareVersions("16.5.0", "16.5.0")).toBe(0);
    expect(compareVersions("", "1.0")).toBeLessThan(0);
  });
});

describe("textSignature", () => {
  it("says how alike two texts are", () => {
    const a = textSignature(routeText);
    const edited = textSignature(`${routeText} one more closing sentence`);
    const other = textSignature(cachingText);
    expect(similarity(a, a)).toBe(1);
    expect(similarity(a, edited)).toBeGreaterThan(0.9);
    expect(similarity(a, other)).toBeLessThan(0.1);
  });

  it("does not judge texts too short to compare", () => {
    expect(textSignature("a short stub page")).toEqual([]);
    // A generated stub is its boilerplate comment and little else.
    const stub = `{/* DO NOT EDIT. ${words("generated", 80)} */}\n\nSee the app docs.`;
    expect(textSignature(stub)).toEqual([]);
    expect(similarity([], [])).toBe(0);
  });
});

describe("classifyDocuments", () => {
  it("keeps documents canonical when no rule applies", () => {
    const only = doc({ path: "a.md", signature: textSignature(routeText) });
    expect(classifyDocuments([only]).get(only.id)).toEqual({
      status: "canonical",
      reason: null,
      canonicalId: null,
    });
  });

  it("makes older copies stale, matched by what they are", () => {
    const current = doc({
      path: "app/api-reference/file-conventions/route.md",
      version: "16.5.0",
      title: "route.js",
      signature: textSignature(routeText),
    });
    const renamed = doc({
      path: "01-app/03-api-reference/03-file-conventions/route.md",
      version: "16.2.0",
      title: "route.js",
      signature: textSignature(routeText),
    });
    // Moved to another folder: found by its name.
    const movedCaching = doc({
      path: "app/guides/caching.md",
      version: "16.5.0",
      title: "Caching",
      signature: textSignature(cachingText),
    });
    const moved = doc({
      path: "01-app/01-getting-started/08-caching.md",
      version: "16.2.0",
      title: "Caching and Revalidating",
      signature: textSignature(cachingText),
    });
    const gone = doc({
      path: "01-app/02-guides/amp.md",
      version: "16.2.0",
      title: "AMP",
    });
    const result = classifyDocuments([
      renamed,
      current,
      movedCaching,
      moved,
      gone,
    ]);
    expect(result.get(current.id)?.status).toBe("canonical");
    expect(result.get(renamed.id)).toEqual({
      status: "stale",
      reason:
        "older version 16.2.0 of app/api-reference/file-conventions/route.md",
      canonicalId: current.id,
    });
    expect(result.get(moved.id)).toMatchObject({
      status: "stale",
      canonicalId: movedCaching.id,
    });
    expect(result.get(gone.id)).toEqual({
      status: "stale",
      reason: "only in older version 16.2.0",
      canonicalId: null,
    });
  });

  it("picks the most similar text when several documents share a name", () => {
    const appRoute = doc({
      path: "app/routing/route.md",
      version: "2",
      signature: textSignature(routeText),
    });
    const pagesRoute = doc({
      path: "pages/routing/route.md",
      version: "2",
      signature: textSignature(cachingText),
    });
    const old = doc({
      path: "docs/route.md",
      version: "1",
      signature: textSignature(cachingText),
    });
    const result = classifyDocuments([appRoute, pagesRoute, old]);
    expect(result.get(old.id)?.canonicalId).toBe(pagesRoute.id);
  });

  it("reads the declared status from front matter", () => {
    const auth = doc({ path: "auth.md" });
    const superseded = doc({
      path: "old-auth.md",
      frontMatter: { superseded_by: "auth.md" },
    });
    const deprecated = doc({
      path: "amp.md",
      frontMatter: { deprecated: true },
    });
    const declared = doc({
      path: "draft.md",
      frontMatter: { status: "stale" },
    });
    const published = doc({
      path: "x.md",
      frontMatter: { status: "Published" },
    });
    const result = classifyDocuments([
      auth,
      superseded,
      deprecated,
      declared,
      published,
    ]);
    expect(result.get(superseded.id)).toEqual({
      status: "superseded",
      reason: "superseded by auth.md (front matter)",
      canonicalId: auth.id,
    });
    expect(result.get(deprecated.id)).toMatchObject({
      status: "stale",
      reason: "deprecated: true in front matter",
    });
    expect(result.get(declared.id)).toMatchObject({
      status: "stale",
      reason: "status: stale in front matter",
    });
    expect(result.get(published.id)).toEqual({
      status: "canonical",
      reason: null,
      canonicalId: null,
    });
  });

  it("keeps a document whose superseded_by names nothing, with a warning", () => {
    const orphan = doc({
      path: "guides/old-auth.md",
      frontMatter: { superseded_by: "guides/missing-auth.md" },
    });
    const draftToo = doc({
      path: "guides/old-deploy.md",
      frontMatter: { superseded_by: "nowhere.md", status: "draft" },
    });
    const result = classifyDocuments([orphan, draftToo]);
    // The status reason says why the declaration was not followed, where
    // the console shows it.
    expect(result.get(orphan.id)).toEqual({
      status: "canonical",
      reason:
        "declared successor ignored (superseded_by: " +
        "guides/missing-auth.md): it names no document of this source",
      canonicalId: null,
      warnings: [
        "superseded_by: guides/missing-auth.md in front matter names no " +
          "document of this source; not marked superseded",
      ],
    });
    // The other rules still apply: here, the declared draft.
    expect(result.get(draftToo.id)).toMatchObject({
      status: "stale",
      reason:
        "front matter declares a draft (status: draft), not published; " +
        "declared successor ignored (superseded_by: nowhere.md): it names " +
        "no document of this source",
      warnings: [expect.stringContaining("nowhere.md")],
    });
  });

  it("ignores superseded_by that forms a cycle, with one warning a cycle", () => {
    const a = doc({ path: "a.md", frontMatter: { superseded_by: "b.md" } });
    const b = doc({
      path: "b.md",
      frontMatter: { superseded_by: "a.md", status: "draft" },
    });
    const ring = [
      doc({ path: "r2.md", frontMatter: { superseded_by: "r3.md" } }),
      doc({ path: "r3.md", frontMatter: { superseded_by: "r1.md" } }),
      doc({ path: "r1.md", frontMatter: { superseded_by: "r2.md" } }),
    ];
    // Pointing into a cycle still supersedes.
    const into = doc({
      path: "old-r.md",
      frontMatter: { superseded_by: "r1.md" },
    });
    const result = classifyDocuments([a, b, ...ring, into]);
    expect(result.get(a.id)).toEqual({
      status: "canonical",
      reason:
        "declared successor ignored (superseded_by: b.md): it forms a " +
        "cycle, a.md → b.md → a.md",
      canonicalId: null,
      warnings: [
        "superseded_by in front matter forms a cycle: a.md → b.md → a.md; " +
          "ignored for these documents",
      ],
    });
    // The other rules decide: here, the declared draft.
    expect(result.get(b.id)).toEqual({
      status: "stale",
      reason:
        "front matter declares a draft (status: draft), not published; " +
        "declared successor ignored (superseded_by: a.md): it forms a " +
        "cycle, a.md → b.md → a.md",
      canonicalId: null,
    });
    expect(ring.map((d) => result.get(d.id)?.status)).toEqual([
      "canonical",
      "canonical",
      "canonical",
    ]);
    expect(result.get(ring[0].id)?.reason).toBe(
      "declared successor ignored (superseded_by: r3.md): it forms a " +
        "cycle, r1.md → r2.md → r3.md → r1.md",
    );
    expect(result.get(ring[2].id)?.warnings).toEqual([
      "superseded_by in front matter forms a cycle: " +
        "r1.md → r2.md → r3.md → r1.md; ignored for these documents",
    ]);
    expect(result.get(ring[0].id)?.warnings).toBeUndefined();
    expect(result.get(ring[1].id)?.warnings).toBeUndefined();
    expect(result.get(into.id)).toEqual({
      status: "superseded",
      reason: "superseded by r1.md (front matter)",
      canonicalId: ring[2].id,
    });
  });

  it("warns of a cycle across versions once in each of its versions", () => {
    const alerts = doc({
      path: "alerts.md",
      version: "1",
      frontMatter: { superseded_by: "paging.md" },
    });
    const paging = doc({
      path: "paging.md",
      version: "2",
      frontMatter: { superseded_by: "alerts.md" },
    });
    const result = classifyDocuments([paging, alerts]);
    const warning =
      "superseded_by in front matter forms a cycle: alerts.md (1) → " +
      "paging.md (2) → alerts.md (1); ignored for these documents";
    // An index run of either version reports the warnings of its own.
    expect(result.get(alerts.id)?.warnings).toEqual([warning]);
    expect(result.get(paging.id)?.warnings).toEqual([warning]);
    expect(result.get(paging.id)).toMatchObject({
      status: "canonical",
      reason:
        "declared successor ignored (superseded_by: alerts.md): it forms a " +
        "cycle, alerts.md (1) → paging.md (2) → alerts.md (1)",
    });
    expect(result.get(alerts.id)?.status).toBe("stale");
  });

  it("says so when superseded_by names the document itself", () => {
    const self = doc({
      path: "guides/deploy.md",
      title: "Deploy",
      frontMatter: { superseded_by: "./deploy.md" },
    });
    const byTitle = doc({
      path: "guides/release.md",
      title: "Release",
      frontMatter: { superseded_by: "Release" },
    });
    const result = classifyDocuments([self, byTitle]);
    expect(result.get(self.id)).toEqual({
      status: "canonical",
      reason:
        "declared successor ignored (superseded_by: ./deploy.md): it " +
        "names this document itself",
      canonicalId: null,
      warnings: [
        "superseded_by: ./deploy.md in front matter names this document " +
          "itself; not marked superseded",
      ],
    });
    expect(result.get(byTitle.id)?.warnings).toEqual([
      "superseded_by: Release in front matter names this document itself; " +
        "not marked superseded",
    ]);
  });

  it("ignores a superseded_by that is not one name, saying what it expects", () => {
    const auth = doc({ path: "auth.md" });
    const list = doc({
      path: "l.md",
      frontMatter: { superseded_by: ["auth.md", "login.md"] },
    });
    const number = doc({ path: "n.md", frontMatter: { superseded_by: 2 } });
    const object = doc({
      path: "o.md",
      frontMatter: { superseded_by: { path: "auth.md" } },
    });
    const result = classifyDocuments([auth, list, number, object]);
    for (const [named, shown, kind] of [
      [list, '["auth.md","login.md"]', "a list"],
      [number, "2", "a number"],
      [object, '{"path":"auth.md"}', "an object"],
    ] as const) {
      expect(result.get(named.id)).toEqual({
        status: "canonical",
        reason:
          `declared successor ignored (superseded_by: ${shown}): it is ` +
          `${kind}, not one document's path or title`,
        canonicalId: null,
        warnings: [
          `superseded_by: ${shown} in front matter is ${kind}; expected one ` +
            "document's path or title (superseded_by: guides/deploy.md); " +
            "ignored",
        ],
      });
    }
  });

  it("takes status superseded or duplicate without a successor as stale", () => {
    const superseded = doc({
      path: "old.md",
      frontMatter: { status: "superseded" },
    });
    const duplicate = doc({
      path: "copy.md",
      frontMatter: { status: "Duplicate" },
    });
    // Its superseded_by already has its own warning.
    const unresolved = doc({
      path: "gone.md",
      frontMatter: { status: "superseded", superseded_by: "nowhere.md" },
    });
    const result = classifyDocuments([superseded, duplicate, unresolved]);
    expect(result.get(superseded.id)).toEqual({
      status: "stale",
      reason:
        "status: superseded in front matter, declared superseded without " +
        "a successor (superseded_by)",
      canonicalId: null,
      warnings: [
        "status: superseded in front matter names no successor; add " +
          "superseded_by: <path or title of the current document> so that " +
          "one answers instead; marked stale",
      ],
    });
    expect(result.get(duplicate.id)).toMatchObject({
      status: "stale",
      reason:
        "status: Duplicate in front matter, declared duplicate without " +
        "a successor (superseded_by)",
      canonicalId: null,
      warnings: [expect.stringContaining("add superseded_by:")],
    });
    expect(result.get(unresolved.id)).toMatchObject({
      status: "stale",
      reason: expect.stringContaining("without a successor"),
      warnings: [
        expect.stringContaining("nowhere.md in front matter names no"),
      ],
    });
  });

  it("takes a declared draft as not current", () => {
    const drafts = ["draft", "WIP", "work in progress", "proposed"].map(
      (status, i) => doc({ path: `d${i}.md`, frontMatter: { status } }),
    );
    const result = classifyDocuments(drafts);
    expect(drafts.map((d) => result.get(d.id))).toEqual([
      {
        status: "stale",
        reason: "front matter declares a draft (status: draft), not published",
        canonicalId: null,
      },
      expect.objectContaining({ reason: expect.stringContaining("WIP") }),
      expect.objectContaining({ status: "stale" }),
      expect.objectContaining({ status: "stale" }),
    ]);
  });

  it("warns about a declared status it does not know", () => {
    const unknown = doc({ path: "x.md", frontMatter: { status: "shiny" } });
    const notText = doc({ path: "y.md", frontMatter: { status: 3 } });
    const result = classifyDocuments([unknown, notText]);
    expect(result.get(unknown.id)).toMatchObject({
      status: "canonical",
      warnings: [
        expect.stringMatching(
          /^status: shiny in front matter is not a known status \(known: canonical, stale, .*draft.*\); ignored$/,
        ),
      ],
    });
    expect(result.get(notText.id)?.warnings).toEqual([
      expect.stringContaining("status: 3 in front matter"),
    ]);
  });

  it("says in the status reason which declared status it ignored and why", () => {
    const unknown = doc({ path: "x.md", frontMatter: { status: "retired" } });
    const number = doc({ path: "y.md", frontMatter: { status: 42 } });
    const empty = doc({ path: "z.md", frontMatter: { status: "" } });
    // An ignored superseded_by and an ignored status are both explained.
    const both = doc({
      path: "w.md",
      frontMatter: { status: "shiny", superseded_by: "nowhere.md" },
    });
    const result = classifyDocuments([unknown, number, empty, both]);
    const known =
      /\(known: canonical, stale, duplicate, superseded, .*draft.*current.*\)$/;
    expect(result.get(unknown.id)).toMatchObject({
      status: "canonical",
      reason: expect.stringMatching(
        /^declared status ignored \(status: retired\): it is not a known status \(known: /,
      ),
      warnings: [expect.stringContaining("status: retired in front matter")],
    });
    expect(result.get(unknown.id)?.reason).toMatch(known);
    expect(result.get(number.id)?.reason).toMatch(
      /^declared status ignored \(status: 42\): it is a number, not a known status \(known: /,
    );
    expect(result.get(empty.id)?.reason).toMatch(
      /^declared status ignored \(status: ""\): it is not a known status/,
    );
    expect(result.get(both.id)).toMatchObject({
      status: "canonical",
      reason: expect.stringMatching(
        /^declared successor ignored \(superseded_by: nowhere\.md\): it names no document of this source; declared status ignored \(status: shiny\): it is not a known status/,
      ),
      warnings: [
        expect.stringContaining("nowhere.md"),
        expect.stringContaining("status: shiny"),
      ],
    });
    // Another rule that decides the status keeps its own reason, with the
    // ignored declaration after it.
    const old = doc({
      path: "v.md",
      version: "1",
      frontMatter: { status: "retired" },
    });
    const current = doc({ path: "v.md", version: "2" });
    const versioned = classifyDocuments([old, current]);
    expect(versioned.get(old.id)?.reason).toMatch(
      /^older version 1 of v\.md; declared status ignored \(status: retired\)/,
    );
    expect(versioned.get(current.id)?.reason).toBeNull();
  });

  it("cuts a long declared value between characters, never inside an emoji", () => {
    // The value is cut to 80 characters for the reason and the warning;
    // the emoji here straddles that cut.
    const emoji = doc({
      path: "x.md",
      frontMatter: { status: `${"a".repeat(79)}🎉🎉` },
    });
    const listed = doc({
      path: "y.md",
      frontMatter: { superseded_by: [`${"b".repeat(76)}🚀🚀`] },
    });
    const result = classifyDocuments([emoji, listed]);
    const loneSurrogate =
      /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
    for (const id of [emoji.id, listed.id]) {
      const { reason, warnings } = result.get(id)!;
      expect(reason).not.toMatch(loneSurrogate);
      for (const warning of warnings ?? []) {
        expect(warning).not.toMatch(loneSurrogate);
      }
    }
    expect(result.get(emoji.id)?.reason).toMatch(
      /^declared status ignored \(status: a{79}🎉\): it is not a known status/,
    );
  });

  it("marks the older of two near-duplicates duplicate", () => {
    const older = doc({
      path: "b-notes.md",
      signature: textSignature(routeText),
      modifiedAt: new Date("2026-10-01T00:00:00Z"),
    });
    const newer = doc({
      path: "a-notes.md",
      signature: textSignature(`${routeText} and one more line`),
      modifiedAt: new Date("2026-11-01T00:00:00Z"),
    });
    const unrelated = doc({
      path: "caching.md",
      signature: textSignature(cachingText),
    });
    const result = classifyDocuments([older, newer, unrelated]);
    expect(result.get(newer.id)?.status).toBe("canonical");
    expect(result.get(unrelated.id)?.status).toBe("canonical");
    const duplicate = result.get(older.id);
    expect(duplicate?.status).toBe("duplicate");
    expect(duplicate?.canonicalId).toBe(newer.id);
    expect(duplicate?.reason).toMatch(/^9\d% similar to a-notes\.md$/);
  });

  it("lets an operator's override beat every rule", () => {
    const current = doc({ path: "a.md", version: "2" });
    const pinned = doc({
      path: "a.md",
      version: "1",
      override: "canonical",
      overrideReason: "pinned canonical by ops@example.com",
    });
    const marked = doc({ path: "b.md", version: "2", override: "stale" });
    const result = classifyDocuments([current, pinned, marked]);
    expect(result.get(pinned.id)).toMatchObject({
      status: "canonical",
      reason: "pinned canonical by ops@example.com",
    });
    expect(result.get(marked.id)).toMatchObject({
      status: "stale",
      reason: "marked stale by an operator",
    });
  });

  it("points superseded_by at the document it names", () => {
    const auth = doc({ path: "guides/auth.md", title: "Authentication" });
    const byRelativePath = doc({
      path: "guides/old-auth.md",
      frontMatter: { superseded_by: "./auth" },
    });
    const byRootPath = doc({
      path: "legacy/login.md",
      frontMatter: { superseded_by: "guides/auth.md" },
    });
    const byTitle = doc({
      path: "legacy/sign-in.md",
      frontMatter: { superseded_by: "Authentication" },
    });
    const result = classifyDocuments([
      auth,
      byRelativePath,
      byRootPath,
      byTitle,
    ]);
    for (const named of [byRelativePath, byRootPath, byTitle]) {
      expect(result.get(named.id)).toEqual({
        status: "superseded",
        reason: "superseded by guides/auth.md (front matter)",
        canonicalId: auth.id,
      });
    }
    expect(result.get(auth.id)?.status).toBe("canonical");
  });

  it("makes a lower front-matter version of the same title stale", () => {
    const v1 = doc({
      path: "api/v1.md",
      title: "Payments API",
      frontMatter: { version: 1 },
    });
    const v2 = doc({
      path: "api/v2.md",
      title: "Payments API",
      frontMatter: { version: "2.0" },
    });
    const alone = doc({ path: "api/other.md", frontMatter: { version: 1 } });
    const result = classifyDocuments([v1, v2, alone]);
    expect(result.get(v1.id)).toEqual({
      status: "stale",
      reason: "declares version 1 in front matter; api/v2.md declares 2.0",
      canonicalId: v2.id,
    });
    expect(result.get(v2.id)?.status).toBe("canonical");
    expect(result.get(alone.id)?.status).toBe("canonical");
  });

  describe("age", () => {
    const age = { staleAfterDays: 365, now: new Date("2026-12-01T00:00:00Z") };
    const old = (partial: Partial<ClassifiedInput> & { path: string }) =>
      doc({
        modifiedAt: new Date("2024-06-30T12:00:00Z"),
        modifiedBy: "Ada Lovelace",
        modifiedSource: "git",
        ...partial,
      });

    it("flags a document unchanged past the limit, naming date and author", () => {
      const unchanged = old({ path: "setup.md" });
      const recent = doc({ path: "deploy.md" });
      const result = classifyDocuments([unchanged, recent], age);
      expect(result.get(unchanged.id)).toEqual({
        status: "stale",
        reason:
          "unchanged since 2024-06-30 (last commit by Ada Lovelace), over " +
          "the 365-day age limit; a weak signal, no other rule applied",
        canonicalId: null,
      });
      expect(result.get(recent.id)?.status).toBe("canonical");
      // No limit set: age says nothing.
      expect(classifyDocuments([unchanged]).get(unchanged.id)?.status).toBe(
        "canonical",
      );
      const byFileTime = old({ path: "x.md", modifiedSource: "file" });
      expect(
        classifyDocuments([byFileTime], age).get(byFileTime.id)?.reason,
      ).toMatch(/^unchanged since 2024-06-30 \(file time\)/);
    });

    it("never outranks a pin, front matter, versions or duplicates", () => {
      const pinned = old({ path: "pinned.md", override: "canonical" });
      const deprecated = old({
        path: "amp.md",
        frontMatter: { deprecated: true },
      });
      const older = old({ path: "guide.md", version: "1" });
      const newer = old({ path: "guide.md", version: "2" });
      const result = classifyDocuments([pinned, deprecated, older, newer], age);
      expect(result.get(pinned.id)).toMatchObject({ status: "canonical" });
      expect(result.get(deprecated.id)?.reason).toBe(
        "deprecated: true in front matter",
      );
      expect(result.get(older.id)?.reason).toBe("older version 1 of guide.md");
      // The newest release is old too: only then does age speak.
      expect(result.get(newer.id)?.reason).toMatch(/^unchanged since/);

      const a = old({
        path: "a-notes.md",
        signature: textSignature(routeText),
        modifiedAt: new Date("2024-07-01T00:00:00Z"),
      });
      const b = old({
        path: "b-notes.md",
        signature: textSignature(routeText),
      });
      const dup = classifyDocuments([a, b], age);
      expect(dup.get(b.id)?.status).toBe("duplicate");
      expect(dup.get(a.id)?.reason).toMatch(/^unchanged since 2024-07-01/);
    });
  });
});
