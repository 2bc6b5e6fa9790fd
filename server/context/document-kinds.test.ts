import { describe, expect, it } from "vitest";
import { askedKinds, documentKind } from "./document-kinds";

const isChangeDocument = (path: string, title: string) =>
  documentKind(path, title) === "change";

/** Expects each question to ask for the kind, or not. */
const expectAsks = (
  kind: "change" | "error" | "preview",
  asks: boolean,
  questions: string[],
) => {
  for (const q of questions) expect(askedKinds(q).has(kind), q).toBe(asks);
};

describe("document kinds", () => {
  it("knows upgrade, migration, codemod and legacy documents by path or title", () => {
    for (const path of [
      "app/guides/upgrading/version-16.md",
      "app/guides/migrating/from-vite.md",
      "app/guides/migrating-to-cache-components.md",
      "pages/guides/upgrading/codemods.md",
      "pages/api-reference/components/image-legacy.md",
      "docs/CHANGELOG.md",
    ]) {
      expect(isChangeDocument(path, "Some title"), path).toBe(true);
    }
    expect(isChangeDocument("notes/x.md", "Upgrading to Tailwind 4")).toBe(
      true,
    );
  });

  it("leaves reference pages and guides that merely contain such letters alone", () => {
    for (const [path, title] of [
      ["app/api-reference/functions/revalidateTag.md", "revalidateTag"],
      ["app/api-reference/components/image.md", "Image Component"],
      ["app/guides/self-hosting.md", "How to self-host"],
      ["app/api-reference/config/versions.md", "Version policy"],
    ]) {
      expect(isChangeDocument(path, title), path).toBe(false);
    }
  });

  it("hears a question about a change", () => {
    expectAsks("change", true, [
      "how do I upgrade to the new proxy file?",
      "migrating from pages to app",
      "middleware.ts got renamed, what now?",
      "what changed in v15 for fetch caching",
      "Next.js 16 params behaviour",
      "is useFormState deprecated",
      "this used to work in 14.2",
    ]);
  });

  it("hears no change in a question about how something works now", () => {
    expectAsks("change", false, [
      "which Node.js version is the minimum?",
      "parallel routes default.js",
      "how do I tag cached data for on-demand revalidation",
      "move the dev indicator to the top right",
    ]);
  });

  it("knows error explanations by their folder", () => {
    expect(documentKind("messages/next-image-unconfigured-host.md", "x")).toBe(
      "error",
    );
    expect(documentKind("docs/errors/E123.md", "x")).toBe("error");
    expect(documentKind("app/guides/error-handling.md", "Error Handling")).toBe(
      null,
    );
  });

  it("hears a question that reports an error, and one that does not", () => {
    expectAsks("error", true, [
      "Image with src is missing required width",
      "why does my build fail with a hydration mismatch",
      "window is not defined: the page throws on the server",
      "my route returns 404 after deploying",
    ]);
    expectAsks("error", false, [
      "allow images only from my CDN host",
      "parallel routes default.js",
      "how do I set up Vitest by hand",
    ]);
  });

  it("knows a document whose front matter declares a preview stage or legacy", () => {
    expect(documentKind("api/route-go.md", "route.go", "experimental")).toBe(
      "preview",
    );
    expect(documentKind("api/x.md", "x", "canary")).toBe("preview");
    expect(documentKind("api/old.md", "old", "legacy")).toBe("change");
    expect(documentKind("api/route.md", "route.js", "")).toBe(null);
    expectAsks("preview", true, ["is there an experimental Go route handler"]);
    expectAsks("preview", false, ["route handler cors headers"]);
  });
});
