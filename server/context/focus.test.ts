import { describe, expect, it } from "vitest";
import {
  preferFocusedSections,
  type CandidateRow,
  type Scored,
} from "./answer";

// Choosing between a section and a subsection under it, on scored
// candidates as the ranking query returns them.

const row = (over: Partial<CandidateRow>): CandidateRow => ({
  id: over.heading ?? "x",
  document_id: "doc",
  path: "guides/auth.md",
  source: "docs",
  heading: "Authentication",
  heading_path: "Authentication",
  version: "",
  level: 1,
  line: 1,
  tokens: 100,
  document_tokens: 1000,
  document_title: "Authentication",
  status: "canonical",
  status_reason: null,
  rank_sum: 1,
  matched_idf: 10,
  asked_idf: 10,
  heading_idf: 0,
  heading_terms: [],
  heading_similarity: 0,
  path_hits: 0,
  identifier_hits: 0,
  heading_identifier_hits: 0,
  title_identifier: false,
  heading_identifier: false,
  in_scope: false,
  shadowed: false,
  excluded: false,
  has_text: true,
  stage: "",
  ...over,
});

const parent = (coverage: number): Scored => ({
  row: row({
    heading: "Session management",
    heading_path: "Authentication > Session management",
    level: 2,
    heading_terms: [1],
    heading_idf: 2,
  }),
  coverage,
  score: 2,
});

const child = (over: Partial<CandidateRow>, coverage: number): Scored => ({
  row: row({
    heading: "Encrypting sessions",
    heading_path: "Authentication > Session management > Encrypting sessions",
    level: 3,
    heading_terms: [0, 1],
    heading_idf: 5,
    ...over,
  }),
  coverage,
  score: 1.8,
});

const first = (list: Scored[]) => preferFocusedSections(list)[0].row.heading;

describe("preferFocusedSections", () => {
  it("serves the subsection whose heading names more of the question than its parent's", () => {
    expect(first([parent(1), child({}, 0.9)])).toBe("Encrypting sessions");
  });

  it("keeps the parent when the subsection covers much less of the question", () => {
    expect(first([parent(1), child({}, 0.6)])).toBe("Session management");
  });

  it("keeps the parent when the subsection's heading adds no weight", () => {
    expect(first([parent(1), child({ heading_idf: 2 }, 0.95)])).toBe(
      "Session management",
    );
  });

  it("serves the parent over a subsection whose heading adds nothing asked", () => {
    const detail: Scored = {
      ...child({ heading: "Fields", heading_terms: [1], heading_idf: 2 }, 1),
      score: 2.5,
    };
    expect(first([detail, parent(1)])).toBe("Session management");
  });

  describe("a document's introduction", () => {
    const intro = (coverage: number): Scored => ({
      row: row({
        heading: "Intercepting Routes",
        heading_path: "Intercepting Routes",
        level: 1,
        heading_terms: [0, 1],
        heading_idf: 6,
      }),
      coverage,
      score: 3.5,
    });
    const modals = (over: Partial<CandidateRow>, coverage: number): Scored => ({
      row: row({
        heading: "Modals",
        heading_path: "Intercepting Routes > Examples > Modals",
        level: 3,
        ...over,
      }),
      coverage,
      score: 3.3,
    });

    it("gives way to a section of its document that matches nearly as well", () => {
      expect(first([intro(1), modals({}, 0.9)])).toBe("Modals");
    });

    it("stays first when its sections match much less, or say nothing", () => {
      expect(first([intro(1), modals({}, 0.5)])).toBe("Intercepting Routes");
      expect(first([intro(1), modals({ has_text: false }, 1)])).toBe(
        "Intercepting Routes",
      );
    });

    it("stays first over another document's section", () => {
      expect(
        first([intro(1), modals({ document_id: "other", path: "x.md" }, 1)]),
      ).toBe("Intercepting Routes");
    });
  });
});
