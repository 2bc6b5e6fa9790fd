// Calendar days in a project's time zone, for spend reports that read the
// hourly rollups. An hour row belongs to the local day (or local hour) its
// first minute falls in. In zones a whole number of hours from UTC that is
// exact; in the few offset by a half or quarter hour (Asia/Kolkata,
// America/St_Johns, Asia/Kathmandu) the hour that straddles local midnight
// counts entirely to the earlier day, so up to 45 minutes of spend sit one
// day early. Ranges given as dates snap the same way, so day buckets
// always add up to the range total.

const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export const dateOnly = /^\d{4}-\d{2}-\d{2}$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, format);
  }

  return format;
}

/** The wall-clock fields of `at` in `timeZone`. */
function wallClock(at: Date, timeZone: string) {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(at)) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }

  return {
    year: parts.year,
    month: parts.month,
    day: parts.day,
    hour: parts.hour,
    minute: parts.minute,
    second: parts.second,
  };
}

/** How far `timeZone` is ahead of UTC at `at`, in milliseconds. */
export function zoneOffsetMs(at: Date, timeZone: string): number {
  const w = wallClock(at, timeZone);
  const asUtc = Date.UTC(
    w.year,
    w.month - 1,
    w.day,
    w.hour,
    w.minute,
    w.second,
  );

  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/** The instant local midnight starts `day` (YYYY-MM-DD) in `timeZone`. A
 * zone that skips midnight (a daylight-saving jump at 00:00) starts the
 * day at the first local time that exists. */
export function zonedMidnight(day: string, timeZone: string): Date {
  const wall = Date.parse(`${day}T00:00:00Z`);
  let guess = wall - zoneOffsetMs(new Date(wall), timeZone);
  // A second pass settles days whose offset differs from the guess's.
  guess = wall - zoneOffsetMs(new Date(guess), timeZone);

  return new Date(guess);
}

/** The local calendar day (YYYY-MM-DD) of `at` in `timeZone`. */
export function localDay(at: Date, timeZone: string): string {
  const w = wallClock(at, timeZone);

  return `${String(w.year).padStart(4, "0")}-${String(w.month).padStart(2, "0")}-${String(w.day).padStart(2, "0")}`;
}

/** `day` moved by `days` calendar days. */
export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS)
    .toISOString()
    .slice(0, 10);
}

/** The first whole hour at or after `at`. */
export function ceilHour(at: Date): Date {
  return new Date(Math.ceil(at.getTime() / HOUR_MS) * HOUR_MS);
}

/** The hours whose first minute falls on local days `from`..`to`
 * (inclusive): [start, end) on whole hours. */
export function localDaysAsHours(
  from: string,
  to: string,
  timeZone: string,
): { from: Date; to: Date } {
  return {
    from: ceilHour(zonedMidnight(from, timeZone)),
    to: ceilHour(zonedMidnight(addDays(to, 1), timeZone)),
  };
}

/** Whether `day` is a real calendar date (2026-02-30 is not). */
export function isCalendarDay(day: string): boolean {
  if (!dateOnly.test(day)) return false;
  const time = Date.parse(`${day}T00:00:00Z`);

  return !Number.isNaN(time) && new Date(time).toISOString().startsWith(day);
}

/** "2026-12-01 06:00" for the local hour that starts at `at`. */
export function localHourLabel(at: Date, timeZone: string): string {
  const w = wallClock(at, timeZone);

  return `${localDay(at, timeZone)} ${String(w.hour).padStart(2, "0")}:${String(w.minute).padStart(2, "0")}`;
}

/** Whether `timeZone` is ever offset from UTC by a part of an hour
 * around `at` (checked in January and July of that year). */
export function isPartHourZone(at: Date, timeZone: string): boolean {
  const year = at.getUTCFullYear();

  return [0, 6].some(
    (month) =>
      zoneOffsetMs(new Date(Date.UTC(year, month, 1)), timeZone) % HOUR_MS !==
      0,
  );
}
