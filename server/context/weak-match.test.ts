import { describe, expect, it } from "vitest";
import { weakMatchReason } from "./answer";

// A question whose best section matched too little of it is told by how
// much; the two shares never read the same.

describe("the reason a weak match is no answer", () => {
  it("gives whole percentages when they differ", () => {
    expect(weakMatchReason(0.19, 0.25)).toBe(
      "The best section matches 19% of the question's weight; below 25% is no answer",
    );
  });

  it("adds decimals until the matched share reads below the needed one", () => {
    expect(weakMatchReason(0.347, 0.35)).toBe(
      "The best section matches 34.7% of the question's weight; below 35.0% is no answer",
    );
    expect(weakMatchReason(0.34996, 0.35)).toBe(
      "The best section matches 34.996% of the question's weight; below 35.000% is no answer",
    );
    expect(weakMatchReason(0.2501, 0.2549)).toMatch(
      /matches 25\.0%.*below 25\.5%/,
    );
  });
});
