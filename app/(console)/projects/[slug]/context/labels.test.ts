import { describe, expect, it } from "vitest";
import {
  documentCount,
  restoreBlockedBy,
  uploadFailure,
  uploadProblems,
} from "./labels";

describe("documentCount", () => {
  it("pluralises", () => {
    expect(documentCount(0)).toBe("0 documents");
    expect(documentCount(1)).toBe("1 document");
    expect(documentCount(2)).toBe("2 documents");
  });

  it("says how many of all match while a filter narrows them", () => {
    expect(documentCount(1, 5)).toBe("1 of 5 documents");
    expect(documentCount(1, 1)).toBe("1 document");
    expect(documentCount(40, 1200)).toBe("40 of 1,200 documents");
  });
});

describe("restoreBlockedBy", () => {
  const canonical = {
    id: "4285a43a-0c1d-4e2f-9a3b-5c6d7e8f9a0b",
    path: "notes/note/deploy-rollbacks.md",
    title: "Deploy rollbacks",
  };

  it("finds the topic's canonical document in a refused restore", () => {
    const error = {
      message: 'Topic deploy-rollbacks … pass supersedes: "4285a43a…"',
      data: {
        domainCode: "conflict",
        details: { topic: "deploy-rollbacks", canonical },
      },
    };
    expect(restoreBlockedBy(error)).toEqual({
      topic: "deploy-rollbacks",
      canonical,
    });
  });

  it("leaves other failures to the usual message", () => {
    expect(restoreBlockedBy(null)).toBeNull();
    expect(restoreBlockedBy(new Error("network"))).toBeNull();
    expect(
      restoreBlockedBy({
        data: { domainCode: "forbidden", details: { canonical } },
      }),
    ).toBeNull();
    expect(
      restoreBlockedBy({
        data: { domainCode: "conflict", details: { document: canonical } },
      }),
    ).toBeNull();
  });
});

describe("uploadProblems", () => {
  it("keeps every batch's file problems and the last batch's status warnings", () => {
    const dangling = {
      path: "deploy.md",
      problem: "superseded_by: deploy-v2.md in front matter names no document",
      statusRule: true as const,
    };
    const problems = uploadProblems([
      {
        skipped: [{ path: "nul.md", problem: "contains a NUL character" }],
        warnings: [
          { path: "latin.md", problem: "not valid UTF-8" },
          // deploy-v2.md arrives in the next batch.
          dangling,
        ],
      },
      {
        skipped: [],
        warnings: [
          {
            path: "draft.md",
            problem: "status: shiny in front matter is not a known status",
            statusRule: true,
          },
        ],
      },
    ]);
    expect(problems).toEqual([
      { path: "nul.md", problem: "contains a NUL character", skipped: true },
      { path: "latin.md", problem: "not valid UTF-8", skipped: false },
      {
        path: "draft.md",
        problem: "status: shiny in front matter is not a known status",
        statusRule: true,
        skipped: false,
      },
    ]);
    expect(uploadProblems([])).toEqual([]);
  });
});

describe("uploadFailure", () => {
  it("names the file a refusal is about", () => {
    const error = {
      message: "Invalid input",
      data: {
        details: [
          { path: "files.1.content", message: "Too big: at most 2000000" },
        ],
      },
    };
    expect(uploadFailure(error, ["a.md", "guides/huge.md"])).toBe(
      "guides/huge.md: Too big: at most 2000000",
    );
  });

  it("falls back to the error's message, then to a sentence", () => {
    expect(uploadFailure({ message: "Payload too large" }, [])).toBe(
      "Payload too large",
    );
    expect(uploadFailure(null, [])).toBe("The upload failed");
  });
});
