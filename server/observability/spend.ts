import { sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { queryRows, type Database } from "@/db/client";
import type { Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { invalidInput } from "@/server/errors";
import { parseInput } from "@/server/input";
import { now } from "@/server/runtime";

// Spend: the cost and tokens of a project's priced events over a time range,
// grouped by day, agent, model, goal or task (or two of them, for stacked
// charts). Days are UTC days. The console, the read API and its CSV export
// all call projectSpend.
//
// Known shortcoming: this reads the raw events table; rollup tables for
// large projects come later.

export const spendDimensions = [
  "day",
  "agent",
  "model",
  "goal",
  "task",
] as const;
export type SpendDimension = (typeof spendDimensions)[number];

const DAY_MS = 86_400_000;
const DEFAULT_RANGE_DAYS = 30;
const MAX_RANGE_DAYS = 3_660;

const dateOnly = /^\d{4}-\d{2}-\d{2}$/;
const rangeBound = z
  .string()
  .trim()
  .refine(
    (v) => dateOnly.test(v) || !Number.isNaN(Date.parse(v)),
    "expected a date (YYYY-MM-DD) or an ISO 8601 time",
  );

export const spendInput = z.object({
  project: z.string().min(1),
  /** Start, inclusive. A date means the start of that UTC day. */
  from: rangeBound.optional(),
  /** End. A date includes that whole UTC day; a time is exclusive. */
  to: rangeBound.optional(),
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

function startOfUtcDay(date: Date): Date {
  return new Date(
    Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()),
  );
}

/** The [from, to) range a request names, defaulting to the last 30 days. */
export function spendRange(
  from?: string,
  to?: string,
): { from: Date; to: Date } {
  const end = to
    ? dateOnly.test(to)
      ? new Date(Date.parse(`${to}T00:00:00Z`) + DAY_MS)
      : new Date(to)
    : new Date(startOfUtcDay(now()).getTime() + DAY_MS);
  const start = from
    ? dateOnly.test(from)
      ? new Date(`${from}T00:00:00Z`)
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

// Each dimension: the columns it selects and what it groups by.
const dimensionSql: Record<SpendDimension, { select: SQL; group: SQL }> = {
  day: {
    select: sql`to_char(date_trunc('day', e.occurred_at at time zone 'UTC'), 'YYYY-MM-DD') as day`,
    group: sql`date_trunc('day', e.occurred_at at time zone 'UTC')`,
  },
  agent: {
    select: sql`e.agent_id as "agentId", a.name as agent`,
    group: sql`e.agent_id, a.name`,
  },
  model: { select: sql`e.model as model`, group: sql`e.model` },
  goal: {
    select: sql`e.goal_id as "goalId", g.title as goal`,
    group: sql`e.goal_id, g.title`,
  },
  task: {
    select: sql`e.task_id as "taskId", t.title as task`,
    group: sql`e.task_id, t.title`,
  },
};

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

const measures = sql`
  sum(e.cost_usd) as cost_usd,
  count(*) as calls,
  count(*) filter (where e.cost_source = 'unpriced') as unpriced_calls,
  sum(e.input_tokens) as input_tokens,
  sum(e.output_tokens) as output_tokens,
  sum(e.cache_read_tokens) as cache_read_tokens,
  sum(coalesce(e.cache_write_5m_tokens, 0) + coalesce(e.cache_write_1h_tokens, 0)) as cache_write_tokens`;

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
  const range = spendRange(parsed.from, parsed.to);
  const groupBy = [
    ...new Set(
      Array.isArray(parsed.groupBy) ? parsed.groupBy : [parsed.groupBy],
    ),
  ];

  const where = sql`e.project_id = ${project.id}
    and e.cost_source <> 'none'
    and e.occurred_at >= ${range.from.toISOString()}::timestamptz
    and e.occurred_at < ${range.to.toISOString()}::timestamptz`;
  const from = sql`from events e
    join agents a on a.id = e.agent_id
    left join goals g on g.id = e.goal_id
    left join tasks t on t.id = e.task_id`;
  const selects = groupBy.map((d) => dimensionSql[d].select);
  const groups = groupBy.map((d) => dimensionSql[d].group);
  const orderBy = groupBy.includes("day")
    ? sql`order by day, cost_usd desc nulls last`
    : sql`order by cost_usd desc nulls last`;

  const rows = await queryRows<RawSpendRow>(
    db,
    sql`select ${sql.join(selects, sql`, `)}, ${measures}
        ${from} where ${where}
        group by ${sql.join(groups, sql`, `)} ${orderBy}`,
  );
  const [totals] = await queryRows<RawSpendRow>(
    db,
    sql`select ${measures} ${from} where ${where}`,
  );

  return {
    project: project.slug,
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    groupBy,
    rows: rows.map(toSpendRow),
    totals: toSpendRow(totals),
  };
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = String(value);

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
