import { sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { queryRows, type Database } from "@/db/client";
import type { Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { invalidInput } from "@/server/errors";
import { parseInput } from "@/server/input";
import { now } from "@/server/runtime";
import {
  addDays,
  DAY_MS,
  dateOnly,
  localDay,
  localDaysAsHours,
} from "./spend-zone";
import { dayOrTime } from "./time-bounds";

// Spend: the cost and tokens of a project's priced events over a time range,
// grouped by day, agent, model, goal or task (or two of them, for stacked
// charts). Days are calendar days in the project's time zone (see
// spend-zone.ts for zones offset by a half hour). The read API and its CSV
// export call projectSpend; the console's Spend page calls spendOverview
// (spend-overview.ts). Both read the hourly rollups ingest maintains
// (rollups.ts), so their cost does not grow with the number of events.

export const spendDimensions = [
  "day",
  "agent",
  "model",
  "goal",
  "task",
] as const;
export type SpendDimension = (typeof spendDimensions)[number];

const DEFAULT_RANGE_DAYS = 30;
const MAX_RANGE_DAYS = 3_660;

export const spendInput = z.object({
  project: z.string().min(1),
  /** Start, inclusive. A date means the start of that day in the
   * project's time zone. */
  from: dayOrTime({ lastDay: false }).optional(),
  /** End. A date includes that whole local day; a time is exclusive. */
  to: dayOrTime({ lastDay: true }).optional(),
  groupBy: z
    .union([
      z.enum(spendDimensions),
      z.array(z.enum(spendDimensions)).min(1).max(2),
      // "day,agent" from a query string.
      z
        .string()
        .transform((v) => v.split(",").map((part) => part.trim()))
        .pipe(z.array(z.enum(spendDimensions)).min(1).max(2)),
    ])
    .default("day"),
});

export type SpendInput = z.input<typeof spendInput>;

export interface SpendRow {
  day?: string;
  agentId?: string;
  agent?: string;
  model?: string | null;
  goalId?: string | null;
  goal?: string | null;
  taskId?: string | null;
  task?: string | null;
  /** Sum of priced events; null when every event in the group is unpriced. */
  costUsd: number | null;
  /** Events that carry tokens or a cost. */
  calls: number;
  unpricedCalls: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export interface SpendReport {
  project: string;
  from: string;
  to: string;
  groupBy: SpendDimension[];
  rows: SpendRow[];
  totals: Omit<SpendRow, SpendDimensionKey>;
}

type SpendDimensionKey =
  "day" | "agentId" | "agent" | "model" | "goalId" | "goal" | "taskId" | "task";

/** The [from, to) range a request names, defaulting to the last 30 days
 * of `timeZone`. A date bound is the hour where that local day's spend
 * starts (spend-zone.ts); a time bound is exact. */
export function spendRange(
  from?: string,
  to?: string,
  timeZone = "UTC",
): { from: Date; to: Date } {
  const lastDay = to && dateOnly.test(to) ? to : localDay(now(), timeZone);
  const days = localDaysAsHours(
    from && dateOnly.test(from)
      ? from
      : addDays(lastDay, 1 - DEFAULT_RANGE_DAYS),
    lastDay,
    timeZone,
  );
  const end = to && !dateOnly.test(to) ? new Date(to) : days.to;
  const start = from
    ? dateOnly.test(from)
      ? days.from
      : new Date(from)
    : new Date(end.getTime() - DEFAULT_RANGE_DAYS * DAY_MS);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) {
    throw invalidInput("Invalid date range", [
      { path: "from", message: "not a date" },
    ]);
  }
  if (start >= end) {
    throw invalidInput("from must be before to", [
      { path: "from", message: "must be before to" },
    ]);
  }
  if (end.getTime() - start.getTime() > MAX_RANGE_DAYS * DAY_MS) {
    throw invalidInput(`A range spans at most ${MAX_RANGE_DAYS} days`, [
      { path: "from", message: "range too long" },
    ]);
  }

  return { from: start, to: end };
}

/** `timeZone` as an SQL string literal. A literal, not a parameter, so
 * the same day expression in SELECT and GROUP BY is recognised as one
 * (each parameter is distinct to the planner). Project zones are checked
 * against the database's zone list when saved; quotes are doubled anyway. */
function zoneLiteral(timeZone: string): SQL {
  return sql.raw(`'${timeZone.replaceAll("'", "''")}'`);
}

// Each dimension: the columns it selects, what it groups by and the name
// table it needs. Rows come from the source `s` built by spendSource; a
// day is the local day of `s.at` in the project's time zone.
// Each dimension of a report: the raw column it is grouped by (`group`,
// selected as `key`), and how the grouped row names it (`select`, over the
// grouped rows `g`, with the `join` that brings in the name). Summing by
// raw ids first and naming the few groups after keeps the join out of the
// pass over every rollup row.
const dimensionSql = (
  timeZone: string,
): Record<
  SpendDimension,
  { group: SQL; key: string; select: SQL; join?: SQL }
> => ({
  day: {
    group: sql`to_char(s.at at time zone ${zoneLiteral(timeZone)},
      'YYYY-MM-DD')`,
    key: "day",
    select: sql`g.day as day`,
  },
  agent: {
    group: sql`s.agent_id`,
    key: "agent_id",
    select: sql`g.agent_id as "agentId", a.name as agent`,
    join: sql`left join agents a on a.id = g.agent_id`,
  },
  model: { group: sql`s.model`, key: "model", select: sql`g.model as model` },
  goal: {
    group: sql`s.goal_id`,
    key: "goal_id",
    select: sql`g.goal_id as "goalId", gl.title as goal`,
    join: sql`left join goals gl on gl.id = g.goal_id`,
  },
  task: {
    group: sql`s.task_id`,
    key: "task_id",
    select: sql`g.task_id as "taskId", t.title as task`,
    join: sql`left join tasks t on t.id = g.task_id`,
  },
});

interface RawSpendRow {
  day?: string;
  agentId?: string;
  agent?: string;
  model?: string | null;
  goalId?: string | null;
  goal?: string | null;
  taskId?: string | null;
  task?: string | null;
  cost_usd: string | null;
  calls: string | number;
  unpriced_calls: string | number;
  input_tokens: string | number | null;
  output_tokens: string | number | null;
  cache_read_tokens: string | number | null;
  cache_write_tokens: string | number | null;
}

function toSpendRow(raw: RawSpendRow): SpendRow {
  const {
    cost_usd,
    calls,
    unpriced_calls,
    input_tokens,
    output_tokens,
    cache_read_tokens,
    cache_write_tokens,
    ...dimensions
  } = raw;

  return {
    ...dimensions,
    costUsd: cost_usd === null ? null : Number(cost_usd),
    calls: Number(calls),
    unpricedCalls: Number(unpriced_calls),
    inputTokens: Number(input_tokens ?? 0),
    outputTokens: Number(output_tokens ?? 0),
    cacheReadTokens: Number(cache_read_tokens ?? 0),
    cacheWriteTokens: Number(cache_write_tokens ?? 0),
  };
}

// A group with no priced event has no cost (null), never $0.
const measures = sql`
  case when sum(s.priced_calls) = 0 then null else sum(s.cost_usd) end
    as cost_usd,
  coalesce(sum(s.calls), 0) as calls,
  coalesce(sum(s.unpriced_calls), 0) as unpriced_calls,
  coalesce(sum(s.input_tokens), 0) as input_tokens,
  coalesce(sum(s.output_tokens), 0) as output_tokens,
  coalesce(sum(s.cache_read_tokens), 0) as cache_read_tokens,
  coalesce(sum(s.cache_write_tokens), 0) as cache_write_tokens`;

const HOUR_MS = 3_600_000;

function iso(at: Date): SQL {
  return sql`${at.toISOString()}::timestamptz`;
}

// The rows a report sums: the hourly rollups for every whole hour of the
// range, plus the raw events of the partial hours at either end (a range
// given as times need not start or end on the hour). Both have the same
// columns; `at` is the hour or the event's time.
function spendSource(projectId: string, range: { from: Date; to: Date }): SQL {
  const firstHour = new Date(
    Math.ceil(range.from.getTime() / HOUR_MS) * HOUR_MS,
  );
  const endHour = new Date(Math.floor(range.to.getTime() / HOUR_MS) * HOUR_MS);
  const parts: SQL[] = [];
  const edges: [Date, Date][] = [];
  if (firstHour < endHour) {
    parts.push(sql`select r.hour as at, r.agent_id, r.model, r.goal_id,
        r.task_id, r.cost_usd, r.priced_calls, r.calls, r.unpriced_calls,
        r.input_tokens, r.output_tokens, r.cache_read_tokens,
        r.cache_write_tokens
      from spend_hourly r
      where r.project_id = ${projectId}
        and r.hour >= ${iso(firstHour)} and r.hour < ${iso(endHour)}`);
    if (range.from < firstHour) edges.push([range.from, firstHour]);
    if (endHour < range.to) edges.push([endHour, range.to]);
  } else {
    edges.push([range.from, range.to]);
  }
  if (edges.length > 0) {
    const within = edges.map(
      ([from, to]) => sql`(e.occurred_at >= ${iso(from)}
        and e.occurred_at < ${iso(to)})`,
    );
    parts.push(sql`select e.occurred_at as at, e.agent_id, e.model,
        e.goal_id, e.task_id, coalesce(e.cost_usd, 0)::numeric as cost_usd,
        (e.cost_usd is not null)::int::bigint as priced_calls,
        1::bigint as calls,
        (e.cost_source = 'unpriced')::int::bigint as unpriced_calls,
        coalesce(e.input_tokens, 0)::bigint as input_tokens,
        coalesce(e.output_tokens, 0)::bigint as output_tokens,
        coalesce(e.cache_read_tokens, 0)::bigint as cache_read_tokens,
        (coalesce(e.cache_write_5m_tokens, 0)
          + coalesce(e.cache_write_1h_tokens, 0))::bigint
          as cache_write_tokens
      from events e
      where e.project_id = ${projectId} and e.cost_source <> 'none'
        and (${sql.join(within, sql` or `)})`);
  }

  return sql`(${sql.join(parts, sql` union all `)}) s`;
}

const emptyMeasures: SpendRow = {
  costUsd: null,
  calls: 0,
  unpricedCalls: 0,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
};

function measuresOnly(row: RawSpendRow): RawSpendRow {
  return {
    cost_usd: row.cost_usd ?? null,
    calls: row.calls ?? 0,
    unpriced_calls: row.unpriced_calls ?? 0,
    input_tokens: row.input_tokens ?? 0,
    output_tokens: row.output_tokens ?? 0,
    cache_read_tokens: row.cache_read_tokens ?? 0,
    cache_write_tokens: row.cache_write_tokens ?? 0,
  };
}

export async function projectSpend(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<SpendReport> {
  const parsed = parseInput(spendInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    parsed.project,
    "viewer",
  );
  const range = spendRange(parsed.from, parsed.to, project.timeZone);
  const groupBy = [
    ...new Set(
      Array.isArray(parsed.groupBy) ? parsed.groupBy : [parsed.groupBy],
    ),
  ];

  const source = spendSource(project.id, range);
  const dimensions = dimensionSql(project.timeZone);
  const keys = groupBy.map((d) => dimensions[d]);
  const groups = sql.join(
    keys.map((k) => k.group),
    sql`, `,
  );
  const orderBy = groupBy.includes("day")
    ? sql`order by g.day, g.cost_usd desc nulls last`
    : sql`order by g.cost_usd desc nulls last`;

  // The empty grouping set adds the totals row in the same pass.
  const grouped = await queryRows<RawSpendRow & { total_row: number }>(
    db,
    sql`with grouped as (
          select ${sql.join(
            keys.map((k) => sql`${k.group} as ${sql.raw(k.key)}`),
            sql`, `,
          )}, ${measures}, grouping(${groups}) as total_row
          from ${source}
          group by grouping sets ((${groups}), ())
        )
        select ${sql.join(
          keys.map((k) => k.select),
          sql`, `,
        )}, g.cost_usd, g.calls, g.unpriced_calls, g.input_tokens,
          g.output_tokens, g.cache_read_tokens, g.cache_write_tokens,
          g.total_row
        from grouped g ${sql.join(
          keys.flatMap((k) => k.join ?? []),
          sql` `,
        )}
        ${orderBy}`,
  );
  const rows: SpendRow[] = [];
  let totals: SpendRow | undefined;
  for (const { total_row, ...row } of grouped) {
    if (Number(total_row) === 0) rows.push(toSpendRow(row));
    else totals = toSpendRow(measuresOnly(row));
  }

  return {
    project: project.slug,
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    groupBy,
    rows,
    // The empty grouping set always yields a row; this only satisfies
    // the checker.
    totals: totals ?? { ...emptyMeasures },
  };
}

const plainNumber = /^-?\d+(\.\d+)?$/;

/** One CSV cell. Text a spreadsheet would run as a formula (starting with
 * = + - @, a tab or a carriage return) gets a leading apostrophe, so an
 * agent or task name cannot become a formula; numbers are left alone.
 * Cells holding a quote, comma or line break are quoted. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text) && !plainNumber.test(text)) {
    text = `'${text}`;
  }

  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const dimensionColumns: Record<SpendDimension, (keyof SpendRow)[]> = {
  day: ["day"],
  agent: ["agentId", "agent"],
  model: ["model"],
  goal: ["goalId", "goal"],
  task: ["taskId", "task"],
};

/** The report as CSV with a header row. An unpriced group has an empty
 * cost and a count in unpriced_calls, never a cost of 0. */
export function spendCsv(report: SpendReport): string {
  const keys = report.groupBy.flatMap((d) => dimensionColumns[d]);
  const header = [
    ...keys.map((k) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)),
    "cost_usd",
    "calls",
    "unpriced_calls",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
  ];
  const lines = report.rows.map((row) =>
    [
      ...keys.map((k) => row[k]),
      row.costUsd === null ? null : row.costUsd.toFixed(8),
      row.calls,
      row.unpricedCalls,
      row.inputTokens,
      row.outputTokens,
      row.cacheReadTokens,
      row.cacheWriteTokens,
    ]
      .map(csvCell)
      .join(","),
  );

  return [header.join(","), ...lines].join("\r\n") + "\r\n";
}
