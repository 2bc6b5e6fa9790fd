import { describe, expect, it } from "vitest";
import { cleanJson, PayloadTooDeep } from "./limits";

describe("cleanJson", () => {
  it("hands back a value with nothing to clean as it is", () => {
    const value = { command: "ls", list: [1, "x", null, { ok: true }] };
    expect(cleanJson(value)).toBe(value);
  });

  it("copies a value whose text, keys or shape need cleaning", () => {
    expect(cleanJson({ a: "x\u0000y", ["k\u0000"]: 1 })).toEqual({
      a: "x\uFFFDy",
      "k\uFFFD": 1,
    });
    expect(cleanJson(["\ud800", "😀"])).toEqual(["\uFFFD", "😀"]);
    expect(cleanJson({ a: undefined, b: [undefined] })).toEqual({
      a: null,
      b: [null],
    });
    const proto = JSON.parse('{"__proto__":{"x":1},"y":2}') as object;
    const cleaned = cleanJson(proto) as Record<string, unknown>;
    expect(Object.keys(cleaned)).toEqual(["__proto__", "y"]);
    expect(Object.getPrototypeOf(cleaned)).toBe(Object.prototype);
  });

  it("refuses a value nested past the limit, clean or not", () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < 80; i += 1) deep = [deep];
    expect(() => cleanJson(deep)).toThrow(PayloadTooDeep);
    expect(() => cleanJson([deep, "\u0000"])).toThrow(PayloadTooDeep);
  });
});
