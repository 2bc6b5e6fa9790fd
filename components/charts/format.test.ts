import { describe, expect, it } from "vitest";
import {
  formatCompact,
  formatDuration,
  formatUsd,
  formatUsdExact,
  uncountedLookups,
} from "./format";

describe("formatUsd", () => {
  it("prints $1 and more with cents and thousands separators", () => {
    expect(formatUsd(3030.55)).toBe("$3,030.55");
    expect(formatUsd(1234567.891)).toBe("$1,234,567.89");
    expect(formatUsd(4.25)).toBe("$4.25");
    expect(formatUsd(1)).toBe("$1.00");
  });

  it("prints less than $1 with up to 4 significant digits, zeros trimmed", () => {
    expect(formatUsd(0.006)).toBe("$0.006");
    expect(formatUsd(0.00261)).toBe("$0.00261");
    expect(formatUsd(0.0026123456)).toBe("$0.002612");
    expect(formatUsd(0.123456)).toBe("$0.1235");
    expect(formatUsd(0.5)).toBe("$0.50");
    expect(formatUsd(0.01)).toBe("$0.01");
  });

  it("rounds an amount just under $1 to cents", () => {
    expect(formatUsd(0.99999)).toBe("$1.00");
  });

  it("keeps zero, negatives and unpriced apart", () => {
    expect(formatUsd(0)).toBe("$0.00");
    expect(formatUsd(-1500)).toBe("-$1,500.00");
    expect(formatUsd(-0.006)).toBe("-$0.006");
    expect(formatUsd(null)).toBe("unpriced");
  });

  it("spells out the exact amount for a title", () => {
    expect(formatUsdExact(0.0026123456)).toBe("$0.0026123456");
    expect(formatUsdExact(3030.5)).toBe("$3,030.50");
  });
});

describe("formatDuration", () => {
  it("prints hours and minutes past an hour", () => {
    expect(formatDuration((23 * 60 + 58) * 60_000)).toBe("23 h 58 min");
    expect(formatDuration(3_600_000)).toBe("1 h 0 min");
  });

  it("never prints 60 seconds", () => {
    expect(formatDuration(119_700)).toBe("2 min 0 s");
    expect(formatDuration(125_000)).toBe("2 min 5 s");
    expect(formatDuration(1500)).toBe("1.5 s");
  });
});

describe("formatCompact", () => {
  it("shortens thousands and millions to one decimal", () => {
    expect(formatCompact(950)).toBe("950");
    expect(formatCompact(18_290)).toBe("18.3k");
    expect(formatCompact(3_800)).toBe("3.8k");
    expect(formatCompact(5_000)).toBe("5k");
    expect(formatCompact(999_960)).toBe("1M");
    expect(formatCompact(2_140_000)).toBe("2.1M");
  });
});

describe("uncountedLookups", () => {
  it("says one lookup in the singular", () => {
    expect(uncountedLookups(1)).toBe(
      "1 lookup by a person or tool is not counted.",
    );
    expect(uncountedLookups(1200)).toBe(
      "1,200 lookups by people and tools are not counted.",
    );
  });
});
