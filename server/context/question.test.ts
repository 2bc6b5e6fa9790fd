import { describe, expect, it } from "vitest";
import { folderWords, namedWords, questionTerms } from "./question";

describe("questionTerms", () => {
  it("keeps identifiers whole and adds their parts", () => {
    const terms = questionTerms(
      "Can I call connection() or request.nextUrl in next/jest?",
    );
    expect(terms.identifiers).toEqual([
      "connection()",
      "request.nextUrl",
      "next/jest",
    ]);
    expect(terms.words).toEqual(
      expect.arrayContaining([
        "connection",
        "request.nexturl",
        "request",
        "nexturl",
        "next/jest",
        "next",
        "jest",
      ]),
    );
  });

  it("drops the words that only say how a question is asked", () => {
    const terms = questionTerms("I want the best way to cache a page, please");
    expect(terms.words).toEqual(["the", "to", "cache", "page"]);
  });

  it("joins adjacent plain words the docs may write as one", () => {
    expect(questionTerms("update search params").joined).toEqual([
      "updatesearch",
      "searchparams",
    ]);
    // An identifier breaks the run.
    expect(questionTerms("search useRouter params").joined).toEqual([]);
  });

  it("strips quotes and punctuation around words", () => {
    const terms = questionTerms("'use cache: private' — “really”?");
    expect(terms.words).toEqual(["use", "cache", "private"]);
  });
});

describe("namedWords", () => {
  it("takes capitalised words inside a sentence, inner capitals and acronyms", () => {
    expect([
      ...namedWords("consume messages from a Kafka topic via GraphQL or QUIC"),
    ]).toEqual(["kafka", "graphql", "quic"]);
  });

  it("leaves out the first word of a sentence, identifiers and short words", () => {
    expect([
      ...namedWords(
        "Where does basePath apply? Images use it. My OK useRouter call",
      ),
    ]).toEqual([]);
  });

  it("reads names through quotes and parentheses", () => {
    expect([...namedWords('set up "Sentry" (with Docker)')]).toEqual([
      "sentry",
      "docker",
    ]);
  });
});

describe("folderWords", () => {
  it("tells the folders a question names from those it turns away from", () => {
    expect(
      folderWords("create a JSON endpoint in the app folder (not pages/api)"),
    ).toMatchObject({ excluded: ["pages"] });
    expect(
      folderWords("with the app router instead of the pages router"),
    ).toMatchObject({ excluded: ["pages"] });
    expect(folderWords("render without using the app dir").excluded).toEqual([
      "app",
    ]);
  });

  it("reads don't, no and avoiding as turning away, and drops the folder's noun", () => {
    expect(
      folderWords("how do I fetch data? I don't use the pages router"),
    ).toMatchObject({ excluded: ["pages"], excludedNouns: ["router"] });
    expect(folderWords("fetch data with no pages router").excluded).toEqual([
      "pages",
    ]);
    expect(folderWords("fetch data, avoiding pages").excluded).toEqual([
      "pages",
    ]);
    // The noun also names the folder asked about: it stays.
    expect(
      folderWords("app router, not the pages router").excludedNouns,
    ).toEqual([]);
  });

  it("does not read 'not in the app router' as turning away from app", () => {
    expect(
      folderWords("what is not supported in the app router").excluded,
    ).not.toContain("app");
  });

  it("does not turn away from a word the negation does not reach", () => {
    // "work" stands between "not" and the folder.
    expect(
      folderWords("does it not work in the app router?").excluded,
    ).not.toContain("app");
    // Named elsewhere in the question: it counts as named.
    const both = folderWords("pages router links, not app links");
    expect(both.excluded).toEqual(["app"]);
    expect(both.named).toContain("pages");
    expect(folderWords("app links, not app/api").excluded).toEqual([]);
  });
});
