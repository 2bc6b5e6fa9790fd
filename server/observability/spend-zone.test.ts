import { describe, expect, it } from "vitest";
import {
  isPartHourZone,
  localDay,
  localDaysAsHours,
  localHourLabel,
  zonedMidnight,
} from "./spend-zone";

// Local days of a project's time zone as whole UTC hours of the rollups.

describe("spend days in a time zone", () => {
  it("starts a day at local midnight, across daylight saving changes", () => {
    const at = (day: string, zone: string) =>
      zonedMidnight(day, zone).toISOString();
    expect(at("2026-12-02", "Europe/Berlin")).toBe("2026-12-01T23:00:00.000Z");
    expect(at("2026-07-02", "Europe/Berlin")).toBe("2026-07-01T22:00:00.000Z");
    // New York leaves daylight saving on 1 November 2026.
    expect(at("2026-11-01", "America/New_York")).toBe(
      "2026-11-01T04:00:00.000Z",
    );
    expect(at("2026-11-02", "America/New_York")).toBe(
      "2026-11-02T05:00:00.000Z",
    );
    expect(at("2026-12-01", "UTC")).toBe("2026-12-01T00:00:00.000Z");
  });

  it("gives a day of 25 hours when the clocks go back", () => {
    const day = localDaysAsHours(
      "2026-11-01",
      "2026-11-01",
      "America/New_York",
    );
    expect((day.to.getTime() - day.from.getTime()) / 3_600_000).toBe(25);
  });

  it("puts 23:30 UTC on the next day in Berlin, the same in New York", () => {
    const late = new Date("2026-12-01T23:30:00Z");
    expect(localDay(late, "Europe/Berlin")).toBe("2026-12-02");
    expect(localDay(late, "America/New_York")).toBe("2026-12-01");
    expect(localHourLabel(late, "Asia/Kolkata")).toBe("2026-12-02 05:00");
  });

  it("snaps part-hour zones to the hour whose first minute is in the day", () => {
    const day = localDaysAsHours("2026-12-01", "2026-12-01", "Asia/Kolkata");
    expect(day.from.toISOString()).toBe("2026-11-30T19:00:00.000Z");
    expect(isPartHourZone(day.from, "Asia/Kolkata")).toBe(true);
    expect(isPartHourZone(day.from, "Europe/Berlin")).toBe(false);
  });
});
