import { describe, expect, it } from "vitest";
import { documentCount, restoreBlockedBy } from "./labels";

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
