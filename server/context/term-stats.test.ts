import { describe, expect, it } from "vitest";
import { oneEditApart } from "./term-stats";

describe("oneEditApart", () => {
  it("takes one letter added, dropped, changed or two swapped", () => {
    expect(oneEditApart("exlud", "exclud")).toBe(true);
    expect(oneEditApart("exclud", "exlud")).toBe(true);
    expect(oneEditApart("revalid", "revalud")).toBe(true);
    expect(oneEditApart("middlwar", "middlewar")).toBe(true);
    expect(oneEditApart("recieve", "receive")).toBe(true);
  });

  it("refuses the same word and words two edits apart", () => {
    expect(oneEditApart("cache", "cache")).toBe(false);
    expect(oneEditApart("cache", "cachers")).toBe(false);
    expect(oneEditApart("matcher", "mather_")).toBe(false);
    expect(oneEditApart("abcde", "badce")).toBe(false);
  });
});
