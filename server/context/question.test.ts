import { describe, expect, it } from "vitest";
import { namedWords, questionTerms } from "./question";

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
