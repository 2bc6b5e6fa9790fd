import { describe, expect, it } from "vitest";
import { ALL_TIME } from "@/server/observability/price-overrides";
import { effectiveDay } from "./price-format";

describe("effective date of a price", () => {
  it("says always for a price saved without a date", () => {
    expect(effectiveDay(ALL_TIME)).toBe("always");
    expect(effectiveDay(ALL_TIME.toISOString())).toBe("always");
  });

  it("shows the day, and the time when not midnight UTC", () => {
    expect(effectiveDay("2026-10-01T00:00:00Z")).toBe("2026-10-01");
    expect(effectiveDay("2026-10-01T09:30:00Z")).toBe("2026-10-01 09:30 UTC");
  });
});
