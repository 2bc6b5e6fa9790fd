import { eq, sql } from "drizzle-orm";
import { queryRows, type Database } from "@/db/client";
import { projects } from "@/db/schema";

// Budget periods. A day, a week (from Monday) or a month starts at midnight
// in the project's time zone, so "today" for a team in Paris ends at
// midnight in Paris, not in UTC; "total" never resets. The database does
// the calendar arithmetic (date_trunc on the local time), so daylight
// saving changes and month lengths are PostgreSQL's, the same on PGlite.

export const budgetPeriods = ["day", "week", "month", "total"] as const;
export type BudgetPeriod = (typeof budgetPeriods)[number];

export interface PeriodWindow {
  /** Null for "total": every event counts. */
  start: Date | null;
  /** When the period ends and the budget resets; null for "total". */
  end: Date | null;
}

export type PeriodWindows = Record<BudgetPeriod, PeriodWindow>;

export const DEFAULT_TIME_ZONE = "UTC";

/** The project's IANA time zone. */
export async function projectTimeZone(
  db: Database,
  projectId: string,
): Promise<string> {
  const [row] = await db
    .select({ timeZone: projects.timeZone })
    .from(projects)
    .where(eq(projects.id, projectId))
    .limit(1);

  return row?.timeZone ?? DEFAULT_TIME_ZONE;
}

/** Whether `name` is an IANA zone both the database and the console's
 * date formatting know. Server-specific names ("localtime", the posix/ and
 * right/ copies) are refused, so a project's zone means the same on every
 * database; PGlite holds fewer aliases, so the database in use is asked. */
export async function isKnownTimeZone(
  db: Database,
  name: string,
): Promise<boolean> {
  if (/^(posix|right)\//i.test(name) || /^(localtime|posixrules)$/i.test(name))
    return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
  } catch {
    return false;
  }
  const rows = await queryRows<{ found: boolean }>(
    db,
    sql`select exists (select 1 from pg_timezone_names
      where name = ${name}) as found`,
  );

  return rows[0]?.found === true;
}

/** The current day, week and month around `at` in time zone `tz`. */
export async function periodWindows(
  db: Database,
  timeZone: string,
  at: Date,
): Promise<PeriodWindows> {
  const local = sql`(${at.toISOString()}::timestamptz at time zone ${timeZone})`;
  // Epoch seconds: both drivers return a double as a number.
  const edge = (unit: string, step: string) =>
    sql`extract(epoch from (date_trunc(${unit}, ${local}) + ${step}::interval)
      at time zone ${timeZone})::float8`;
  const [row] = await queryRows<Record<string, number | string>>(
    db,
    sql`select ${edge("day", "0 days")} as day_start,
      ${edge("day", "1 day")} as day_end,
      ${edge("week", "0 days")} as week_start,
      ${edge("week", "1 week")} as week_end,
      ${edge("month", "0 days")} as month_start,
      ${edge("month", "1 month")} as month_end`,
  );
  const moment = (key: string) => new Date(Number(row?.[key]) * 1000);

  return {
    day: { start: moment("day_start"), end: moment("day_end") },
    week: { start: moment("week_start"), end: moment("week_end") },
    month: { start: moment("month_start"), end: moment("month_end") },
    total: { start: null, end: null },
  };
}

/** "3 d 4 h", "5 h 12 min", "12 min", "under a minute". */
export function formatDuration(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return "under a minute";
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  if (days > 0) return hours > 0 ? `${days} d ${hours} h` : `${days} d`;
  if (hours > 0) return rest > 0 ? `${hours} h ${rest} min` : `${hours} h`;

  return `${rest} min`;
}

/** "resets in 5 h 12 min" or "does not reset" (a total budget). */
export function resetText(window: PeriodWindow, at: Date): string {
  if (!window.end) return "does not reset";

  return `resets in ${formatDuration(window.end.getTime() - at.getTime())}`;
}
