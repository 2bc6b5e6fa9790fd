import { z } from "zod";
import { EARLIEST_EVENT_TIME, LATEST_EVENT_TIME } from "./limits";
import { dateOnly, isCalendarDay } from "./spend-zone";

// The times a read may ask about: the years events may happen in (1970 to
// 9999, UTC, as ingest enforces). A filter, a range bound or a cursor
// outside them could match nothing, and PostgreSQL cannot read the year 0,
// a negative year or a year written with six digits, which is how
// JavaScript writes dates past 9999; refused here, they answer as invalid
// input naming the field instead of failing in the database.

export const FIRST_DAY = "1970-01-01";
export const LAST_DAY = "9999-12-31";
/** The latest day a range may end on: a range of days ends at the start
 * of the day after its last one, which must still be in year 9999. */
export const LAST_RANGE_DAY = "9999-12-30";

export const YEARS_MESSAGE = "Must be a date between 1970 and 9999";
export const LAST_RANGE_DAY_MESSAGE =
  `Must be ${LAST_RANGE_DAY} or earlier, so that the range (which ends ` +
  "where the day after it starts) ends within the year 9999";

/** Whether `at` is a real time in the years 1970 to 9999 (UTC). */
export function isWithinYears(at: Date): boolean {
  const time = at.getTime();

  return (
    !Number.isNaN(time) &&
    time >= EARLIEST_EVENT_TIME &&
    time <= LATEST_EVENT_TIME
  );
}

/** The moment a cursor's time text names, or null unless it is written as
 * toISOString writes it (with up to three more digits, the microseconds
 * PostgreSQL keeps), names a time that exists (no month 99 or hour 25) and
 * lies between 1970 and 9999. The Date holds milliseconds; a caller that
 * needs the microseconds keeps the text. */
export function isoTimeWithinYears(text: string): Date | null {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3})\d{0,3}Z$/.exec(
    text,
  );
  if (!match) return null;
  const at = new Date(`${match[1]}Z`);
  if (!isWithinYears(at) || at.toISOString() !== `${match[1]}Z`) return null;

  return at;
}

/** A moment (a Date, or a date or time as text) between 1970 and 9999. */
export const boundedDate = z.coerce
  .date({ error: "Must be a date" })
  .refine(isWithinYears, YEARS_MESSAGE);

/** Whether `day` (YYYY-MM-DD) exists and lies between 1970 and 9999. */
export function isDayWithinYears(day: string): boolean {
  return isCalendarDay(day) && day >= FIRST_DAY && day <= LAST_DAY;
}

/** A calendar day, YYYY-MM-DD, that exists, between 1970 and 9999. */
export const boundedDay = z
  .string()
  .trim()
  .refine(isCalendarDay, "expected an existing date, YYYY-MM-DD")
  .refine((day) => !isCalendarDay(day) || isDayWithinYears(day), YEARS_MESSAGE);

/** The last day of a range of days: a bounded day that leaves the range's
 * end (the next day's start) within 9999. */
export const lastRangeDay = boundedDay.refine(
  (day) => !isDayWithinYears(day) || day <= LAST_RANGE_DAY,
  LAST_RANGE_DAY_MESSAGE,
);

/** A bound of a range given as text: a calendar day (YYYY-MM-DD) or an ISO
 * 8601 time, between 1970 and 9999. `lastDay` marks the bound whose day is
 * the range's last, which must leave the range's end within 9999. */
export function dayOrTime({ lastDay }: { lastDay: boolean }) {
  return z
    .string()
    .trim()
    .superRefine((value, ctx) => {
      const problem = dateOnly.test(value)
        ? !isCalendarDay(value)
          ? "expected an existing date (YYYY-MM-DD) or an ISO 8601 time"
          : !isDayWithinYears(value)
            ? YEARS_MESSAGE
            : lastDay && value > LAST_RANGE_DAY
              ? LAST_RANGE_DAY_MESSAGE
              : null
        : Number.isNaN(Date.parse(value))
          ? "expected a date (YYYY-MM-DD) or an ISO 8601 time"
          : !isWithinYears(new Date(value))
            ? YEARS_MESSAGE
            : null;
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    });
}
