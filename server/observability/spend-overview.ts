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
  isPartHourZone,
  localDay,
  localDaysAsHours,
  localHourLabel,
} from "./spend-zone";
import { findSpikes, type Spike } from "./spend-spikes";
import { boundedDay, lastRangeDay } from "./time-bounds";

// The Spend page in one read: spend over time stacked by one dimension, the
// top spenders, cost per completed task, each budgeted goal's burn-down and
// the buckets whose spend spiked, for a range of local days and optional
// agent, goal and model filters. Every figure comes from the hourly
// rollups (spend_hourly), joined to tasks, goals and budgets by id, so the
// page costs the same at ten events or ten million.

export const spendStacks = ["agent", "model", "goal", "task"] as const;
export type SpendStack = (typeof spendStacks)[number];
export const spendBuckets = ["day", "hour"] as const;
export type SpendBucket = (typeof spendBuckets)[number];

const HOUR_MS = 3_600_000;
const DEFAULT_RANGE_DAYS = 30;
const MAX_RANGE_DAYS = 366;
/** Series in the stacked chart; past it the smallest are summed. */
export const MAX_SERIES = 8;
/** The key of that summed series. */
export const OTHER_SERIES = "other";
/** Hourly buckets are offered up to this many days (336 bars). */
export const MAX_HOURLY_DAYS = 14;
/** "auto" picks hours for ranges of at most this many days. */
const AUTO_HOURLY_DAYS = 2;
/** Buckets before each one that its spike test compares it with. */
export const SPIKE_WINDOW = 7;
export const SPIKE_FACTOR = 3;
const DEFAULT_SPIKE_FLOOR: Record<SpendBucket, number> = {
  day: 1,
  hour: 0.25,
};

export const spendOverviewInput = z.object({
  project: z.string().min(1),
  /** First local day, inclusive; default 29 days before `to`. */
  from: boundedDay.optional(),
  /** Last local day, inclusive; default today in the project's zone. */
  to: lastRangeDay.optional(),
  bucket: z.enum([...spendBuckets, "auto"]).default("auto"),
  stackBy: z.enum(spendStacks).default("agent"),
  agent: z.uuid().optional(),
  goal: z.uuid().optional(),
  model: z.string().trim().min(1).max(300).optional(),
  /** Rows in each top list and in the most expensive tasks. */
  top: z.number().int().min(1).max(50).default(10),
  /** A spike must cost at least this much; default $1 a day, $0.25 an
   * hour. */
  spikeFloorUsd: z.number().min(0).max(1_000_000).optional(),
});

export type SpendOverviewInput = z.input<typeof spendOverviewInput>;

export interface SpendMeasures {
  /** Null when nothing in the group was priced. */
  costUsd: number | null;
  calls: number;
  unpricedCalls: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export interface SpendBucketInfo {
  /** A local day (YYYY-MM-DD), or the UTC start of an hour (ISO). */
  key: string;
  /** The local day, or "YYYY-MM-DD HH:MM" local time. */
  label: string;
}

export interface SpendSeriesPoint extends SpendMeasures {
  bucket: string;
  /** The agent, goal or task id, or the model; null for "none". */
  key: string | null;
  name: string;
}

export interface Spender extends SpendMeasures {
  key: string | null;
  name: string;
}

export interface CompletedTask extends SpendMeasures {
  taskId: string;
  title: string;
  goalId: string;
  goal: string;
  completedAt: string;
  /** Local day it was completed. */
  completedDay: string;
}

export interface GoalBudgetLine {
  /** "goal": the goal's own budget_usd; "budget": a guardrail budget. */
  source: "goal" | "budget";
  id: string;
  period: "day" | "week" | "month" | "total";
  limitUsd: number;
}

export interface BurnDownPoint {
  bucket: string;
  spendUsd: number;
  /** Spend of the goal from its first event to the end of the bucket. */
  cumulativeUsd: number;
}

export interface GoalBurnDown {
  goalId: string;
  title: string;
  status: string;
  budgets: GoalBudgetLine[];
  /** Spend before the range, counted into every cumulative value. */
  spentBeforeUsd: number;
  points: BurnDownPoint[];
  spentToDateUsd: number;
  /** The tightest budget that never resets, if any. */
  lineUsd: number | null;
  remainingUsd: number | null;
}

export interface SpendOverview {
  project: string;
  timeZone: string;
  /** The zone is offset from UTC by part of an hour: see spend-zone.ts. */
  partHourZone: boolean;
  from: string;
  to: string;
  /** The whole hours the range covers, [rangeStart, rangeEnd). */
  rangeStart: string;
  rangeEnd: string;
  bucket: SpendBucket;
  stackBy: SpendStack;
  filters: { agent: string | null; goal: string | null; model: string | null };
  buckets: SpendBucketInfo[];
  series: SpendSeriesPoint[];
  totals: SpendMeasures;
  top: { agents: Spender[]; goals: Spender[]; models: Spender[] };
  completedTasks: {
    count: number;
    costUsd: number | null;
    costPerTaskUsd: number | null;
    /** Completed tasks none of whose calls were priced. */
    unpricedTasks: number;
    mostExpensive: CompletedTask[];
  };
  burnDown: GoalBurnDown[];
  spikes: Spike[];
  spikeFloorUsd: number;
  options: {
    agents: { id: string; name: string }[];
    goals: { id: string; title: string }[];
    models: string[];
  };
}

interface RawMeasures {
  cost_usd: string | null;
  calls: string | number;
  unpriced_calls: string | number;
  input_tokens: string | number;
  output_tokens: string | number;
  cache_read_tokens: string | number;
  cache_write_tokens: string | number;
}

// A group with no priced call has no cost (null), never $0.
const measures = sql`
  case when coalesce(sum(r.priced_calls), 0) = 0 then null
    else sum(r.cost_usd) end::text as cost_usd,
  coalesce(sum(r.calls), 0)::bigint as calls,
  coalesce(sum(r.unpriced_calls), 0)::bigint as unpriced_calls,
  coalesce(sum(r.input_tokens), 0)::bigint as input_tokens,
  coalesce(sum(r.output_tokens), 0)::bigint as output_tokens,
  coalesce(sum(r.cache_read_tokens), 0)::bigint as cache_read_tokens,
  coalesce(sum(r.cache_write_tokens), 0)::bigint as cache_write_tokens`;

function toMeasures(raw: RawMeasures): SpendMeasures {
  return {
    costUsd: raw.cost_usd === null ? null : Number(raw.cost_usd),
    calls: Number(raw.calls),
    unpricedCalls: Number(raw.unpriced_calls),
    inputTokens: Number(raw.input_tokens),
    outputTokens: Number(raw.output_tokens),
    cacheReadTokens: Number(raw.cache_read_tokens),
    cacheWriteTokens: Number(raw.cache_write_tokens),
  };
}

const at = (date: Date) => sql`${date.toISOString()}::timestamptz`;

/** The bucket a rollup hour `r.hour` falls in. */
/** The start of each rollup hour's bucket: a local day (a timestamp
 * without zone) or the hour itself. */
function bucketStart(bucket: SpendBucket, timeZone: string): SQL {
  return bucket === "day"
    ? sql`date_trunc('day', r.hour at time zone ${timeZone})`
    : sql`r.hour`;
}

/** The bucket's key as the page shows it, from `d.b` (bucketStart). */
function bucketText(bucket: SpendBucket): SQL {
  return bucket === "day"
    ? sql`to_char(d.b, 'YYYY-MM-DD')`
    : sql`to_char(d.b at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.000"Z"')`;
}

// What a stack dimension groups by (a raw column of the rollup) and how
// the summed rows `d` get their names.
const stackSql: Record<SpendStack, { key: SQL; name: SQL; join: SQL }> = {
  agent: {
    key: sql`r.agent_id`,
    name: sql`a.name`,
    join: sql`left join agents a on a.id = d.key`,
  },
  model: { key: sql`r.model`, name: sql`d.key`, join: sql`` },
  goal: {
    key: sql`r.goal_id`,
    name: sql`g.title`,
    join: sql`left join goals g on g.id = d.key`,
  },
  task: {
    key: sql`r.task_id`,
    name: sql`t.title`,
    join: sql`left join tasks t on t.id = d.key`,
  },
};

const noneName: Record<SpendStack, string> = {
  agent: "(unknown agent)",
  model: "(no model)",
  goal: "(no goal)",
  task: "(no task)",
};

interface Filters {
  agent: string | null;
  goal: string | null;
  model: string | null;
}

function filterSql(filters: Filters): SQL {
  const parts: SQL[] = [];
  if (filters.agent) parts.push(sql`and r.agent_id = ${filters.agent}::uuid`);
  if (filters.goal) parts.push(sql`and r.goal_id = ${filters.goal}::uuid`);
  if (filters.model) parts.push(sql`and r.model = ${filters.model}`);

  return sql.join(parts, sql` `);
}

function rollupsIn(projectId: string, start: Date, end: Date): SQL {
  return sql`r.project_id = ${projectId}
    and r.hour >= ${at(start)} and r.hour < ${at(end)}`;
}

/** The buckets from `start` to `end` (whole hours) in order. */
function bucketList(
  bucket: SpendBucket,
  from: string,
  to: string,
  start: Date,
  end: Date,
  timeZone: string,
): SpendBucketInfo[] {
  const out: SpendBucketInfo[] = [];
  if (bucket === "day") {
    for (let day = from; day <= to; day = addDays(day, 1)) {
      out.push({ key: day, label: day });
    }
  } else {
    for (let t = start.getTime(); t < end.getTime(); t += HOUR_MS) {
      const hour = new Date(t);
      out.push({
        key: hour.toISOString(),
        label: localHourLabel(hour, timeZone),
      });
    }
  }

  return out;
}

function daysBetween(from: string, to: string): number {
  return (
    (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) /
      86_400_000 +
    1
  );
}

function addMeasures(into: SpendMeasures, part: SpendMeasures): void {
  if (part.costUsd !== null) into.costUsd = (into.costUsd ?? 0) + part.costUsd;
  into.calls += part.calls;
  into.unpricedCalls += part.unpricedCalls;
  into.inputTokens += part.inputTokens;
  into.outputTokens += part.outputTokens;
  into.cacheReadTokens += part.cacheReadTokens;
  into.cacheWriteTokens += part.cacheWriteTokens;
}

/** The `max - 1` series that cost most over the range, and the rest summed
 * per bucket as one "other" series, so a stack by task stays readable
 * (and small) however many tasks there are. */
export function keepTopSeries(
  points: SpendSeriesPoint[],
  max: number,
): SpendSeriesPoint[] {
  const totals = new Map<string | null, number>();
  for (const point of points) {
    totals.set(point.key, (totals.get(point.key) ?? 0) + (point.costUsd ?? 0));
  }
  if (totals.size <= max) return points;
  const kept = new Set(
    [...totals]
      .sort((a, b) => b[1] - a[1])
      .slice(0, max - 1)
      .map(([key]) => key),
  );
  const name = `other (${totals.size - kept.size})`;
  const out: SpendSeriesPoint[] = [];
  const others = new Map<string, SpendSeriesPoint>();
  for (const point of points) {
    if (kept.has(point.key)) {
      out.push(point);
      continue;
    }
    let other = others.get(point.bucket);
    if (!other) {
      other = {
        bucket: point.bucket,
        key: OTHER_SERIES,
        name,
        costUsd: null,
        calls: 0,
        unpricedCalls: 0,
        inputTokens: 0,
        outputTokens: 0,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
      };
      others.set(point.bucket, other);
      out.push(other);
    }
    addMeasures(other, point);
  }

  return out;
}

/** Everything the Spend page shows for one range and set of filters. */
export async function spendOverview(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<SpendOverview> {
  const parsed = parseInput(spendOverviewInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    parsed.project,
    "viewer",
  );
  const timeZone = project.timeZone;
  const to = parsed.to ?? localDay(now(), timeZone);
  const from = parsed.from ?? addDays(to, 1 - DEFAULT_RANGE_DAYS);
  if (from > to) {
    throw invalidInput("from must be on or before to", [
      { path: "from", message: "must be on or before to" },
    ]);
  }
  const days = daysBetween(from, to);
  if (days > MAX_RANGE_DAYS) {
    throw invalidInput(`A range spans at most ${MAX_RANGE_DAYS} days`, [
      { path: "from", message: `at most ${MAX_RANGE_DAYS} days` },
    ]);
  }
  const bucket: SpendBucket =
    parsed.bucket === "auto"
      ? days <= AUTO_HOURLY_DAYS
        ? "hour"
        : "day"
      : parsed.bucket;
  if (bucket === "hour" && days > MAX_HOURLY_DAYS) {
    throw invalidInput(
      `Hourly spend covers at most ${MAX_HOURLY_DAYS} days; pick days`,
      [
        {
          path: "bucket",
          message: `hours for at most ${MAX_HOURLY_DAYS} days`,
        },
      ],
    );
  }
  const range = localDaysAsHours(from, to, timeZone);
  const filters: Filters = {
    agent: parsed.agent ?? null,
    goal: parsed.goal ?? null,
    model: parsed.model ?? null,
  };
  const buckets = bucketList(bucket, from, to, range.from, range.to, timeZone);
  // Spike tests look back SPIKE_WINDOW buckets, also before the range.
  const leadStart =
    bucket === "day"
      ? localDaysAsHours(addDays(from, -SPIKE_WINDOW), from, timeZone).from
      : new Date(range.from.getTime() - SPIKE_WINDOW * HOUR_MS);
  const leadBuckets = bucketList(
    bucket,
    addDays(from, -SPIKE_WINDOW),
    addDays(from, -1),
    leadStart,
    range.from,
    timeZone,
  );

  const context = { db, projectId: project.id, timeZone, filters, bucket };
  const [series, top, completedTasks, burnDown, options] = await Promise.all([
    stackedSeries(context, parsed.stackBy, leadStart, range.to),
    topSpenders(context, range.from, range.to),
    completedTaskCosts(context, range.from, range.to, parsed.top),
    goalBurnDowns(context, buckets, range.from, range.to),
    filterOptions(context, range.from, range.to),
  ]);
  const spikeFloorUsd = parsed.spikeFloorUsd ?? DEFAULT_SPIKE_FLOOR[bucket];
  const inRange = new Set(buckets.map((b) => b.key));
  const spikes = findSpikes({
    buckets: [...leadBuckets, ...buckets],
    inRange,
    points: series,
    window: SPIKE_WINDOW,
    factor: SPIKE_FACTOR,
    floorUsd: spikeFloorUsd,
  });

  return {
    project: project.slug,
    timeZone,
    partHourZone: isPartHourZone(range.from, timeZone),
    from,
    to,
    rangeStart: range.from.toISOString(),
    rangeEnd: range.to.toISOString(),
    bucket,
    stackBy: parsed.stackBy,
    filters,
    buckets,
    series: keepTopSeries(
      series.filter((point) => inRange.has(point.bucket)),
      MAX_SERIES,
    ),
    totals: top.totals,
    top: {
      agents: top.agents.slice(0, parsed.top),
      goals: top.goals.slice(0, parsed.top),
      models: top.models.slice(0, parsed.top),
    },
    completedTasks,
    burnDown,
    spikes,
    spikeFloorUsd,
    options,
  };
}

interface QueryContext {
  db: Database;
  projectId: string;
  timeZone: string;
  filters: Filters;
  bucket: SpendBucket;
}

async function stackedSeries(
  ctx: QueryContext,
  stackBy: SpendStack,
  start: Date,
  end: Date,
): Promise<SpendSeriesPoint[]> {
  const stack = stackSql[stackBy];
  // Summed by bucket and raw key first (a hash aggregate over the hourly
  // rows), then named and formatted: grouping on formatted text and names
  // made PostgreSQL sort every rollup row.
  const rows = await queryRows<
    RawMeasures & { bucket: string; key: string | null; name: string | null }
  >(
    ctx.db,
    sql`select ${bucketText(ctx.bucket)} as bucket, d.key::text as key,
          ${stack.name} as name, d.cost_usd, d.calls, d.unpriced_calls,
          d.input_tokens, d.output_tokens, d.cache_read_tokens,
          d.cache_write_tokens
        from (
          select ${bucketStart(ctx.bucket, ctx.timeZone)} as b,
            ${stack.key} as key, ${measures}
          from spend_hourly r
          where ${rollupsIn(ctx.projectId, start, end)} ${filterSql(ctx.filters)}
          group by 1, 2
        ) d ${stack.join}
        order by d.b, d.cost_usd::numeric desc nulls last, 2`,
  );

  return rows.map((row) => ({
    bucket: row.bucket,
    key: row.key,
    name: row.name ?? noneName[stackBy],
    ...toMeasures(row),
  }));
}

async function topSpenders(
  ctx: QueryContext,
  start: Date,
  end: Date,
): Promise<{
  totals: SpendMeasures;
  agents: Spender[];
  goals: Spender[];
  models: Spender[];
}> {
  // One pass: a grouping set per list, and the empty set for the totals.
  const rows = await queryRows<
    RawMeasures & {
      agent_id: string | null;
      agent: string | null;
      goal_id: string | null;
      goal: string | null;
      model: string | null;
      by_agent: number;
      by_goal: number;
      by_model: number;
    }
  >(
    ctx.db,
    // Summed over raw ids first, then named (see stackedSeries).
    sql`select d.agent_id::text as agent_id, a.name as agent,
          d.goal_id::text as goal_id, g.title as goal, d.model,
          d.by_agent, d.by_goal, d.by_model, d.cost_usd, d.calls,
          d.unpriced_calls, d.input_tokens, d.output_tokens,
          d.cache_read_tokens, d.cache_write_tokens
        from (
          select r.agent_id, r.goal_id, r.model,
            grouping(r.agent_id) as by_agent, grouping(r.goal_id) as by_goal,
            grouping(r.model) as by_model, ${measures}
          from spend_hourly r
          where ${rollupsIn(ctx.projectId, start, end)} ${filterSql(ctx.filters)}
          group by grouping sets ((r.agent_id), (r.goal_id), (r.model), ())
        ) d
        left join agents a on a.id = d.agent_id
        left join goals g on g.id = d.goal_id`,
  );
  const agents: Spender[] = [];
  const goals: Spender[] = [];
  const models: Spender[] = [];
  let totals = toMeasures({
    cost_usd: null,
    calls: 0,
    unpriced_calls: 0,
    input_tokens: 0,
    output_tokens: 0,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
  });
  for (const row of rows) {
    const figures = toMeasures(row);
    if (Number(row.by_agent) === 0) {
      agents.push({ key: row.agent_id, name: row.agent ?? "", ...figures });
    } else if (Number(row.by_goal) === 0) {
      goals.push({
        key: row.goal_id,
        name: row.goal ?? noneName.goal,
        ...figures,
      });
    } else if (Number(row.by_model) === 0) {
      models.push({
        key: row.model,
        name: row.model ?? noneName.model,
        ...figures,
      });
    } else {
      totals = figures;
    }
  }
  const byCost = (a: Spender, b: Spender) =>
    (b.costUsd ?? -1) - (a.costUsd ?? -1) ||
    b.calls - a.calls ||
    a.name.localeCompare(b.name);

  return {
    totals,
    agents: agents.sort(byCost),
    goals: goals.sort(byCost),
    models: models.sort(byCost),
  };
}

/** Tasks completed in the range with their whole cost (all their rollup
 * hours, whenever spent). With an agent or model filter, only that
 * agent's or model's spend counts, and only tasks it spent on. */
async function completedTaskCosts(
  ctx: QueryContext,
  start: Date,
  end: Date,
  limit: number,
): Promise<SpendOverview["completedTasks"]> {
  const join: SQL[] = [];
  if (ctx.filters.agent) {
    join.push(sql`and r.agent_id = ${ctx.filters.agent}::uuid`);
  }
  if (ctx.filters.model) join.push(sql`and r.model = ${ctx.filters.model}`);
  const narrowed = ctx.filters.agent !== null || ctx.filters.model !== null;
  const rows = await queryRows<
    RawMeasures & {
      task_id: string;
      title: string;
      goal_id: string;
      goal: string;
      completed_at: string | Date;
      task_count: string | number;
      total_cost: string | null;
      unpriced_tasks: string | number;
    }
  >(
    ctx.db,
    sql`with done as (
          select t.id, t.title, t.goal_id, g.title as goal, t.completed_at
            from tasks t join goals g on g.id = t.goal_id
           where t.project_id = ${ctx.projectId} and t.status = 'done'
             and t.completed_at >= ${at(start)}
             and t.completed_at < ${at(end)}
             ${ctx.filters.goal ? sql`and t.goal_id = ${ctx.filters.goal}::uuid` : sql``}
        ), sums as (
          -- Summed by task id alone first; the done tasks' names join the
          -- few sums after, not every rollup row.
          select r.task_id, ${measures}
            from spend_hourly r
           where r.project_id = ${ctx.projectId}
             and r.task_id in (select id from done)
             ${sql.join(join, sql` `)}
           group by r.task_id
        ), costs as (
          select d.id as task_id, d.title, d.goal_id::text as goal_id, d.goal,
                 d.completed_at, s.cost_usd,
                 coalesce(s.calls, 0) as calls,
                 coalesce(s.unpriced_calls, 0) as unpriced_calls,
                 coalesce(s.input_tokens, 0) as input_tokens,
                 coalesce(s.output_tokens, 0) as output_tokens,
                 coalesce(s.cache_read_tokens, 0) as cache_read_tokens,
                 coalesce(s.cache_write_tokens, 0) as cache_write_tokens
            from done d
            ${narrowed ? sql`join` : sql`left join`} sums s
              on s.task_id = d.id
           ${narrowed ? sql`where s.calls > 0` : sql``}
        )
        select *, count(*) over () as task_count,
               sum(cost_usd::numeric) over ()::text as total_cost,
               count(*) filter (where cost_usd is null) over ()
                 as unpriced_tasks
          from costs
         order by cost_usd::numeric desc nulls last, completed_at desc
         limit ${limit}`,
  );
  const first = rows[0];
  const count = first ? Number(first.task_count) : 0;
  const costUsd =
    first && first.total_cost !== null ? Number(first.total_cost) : null;

  return {
    count,
    costUsd,
    costPerTaskUsd: count > 0 && costUsd !== null ? costUsd / count : null,
    unpricedTasks: first ? Number(first.unpriced_tasks) : 0,
    mostExpensive: rows.map((row) => {
      const completedAt = new Date(row.completed_at);

      return {
        taskId: row.task_id,
        title: row.title,
        goalId: row.goal_id,
        goal: row.goal,
        completedAt: completedAt.toISOString(),
        completedDay: localDay(completedAt, ctx.timeZone),
        ...toMeasures(row),
      };
    }),
  };
}

/** Each goal with a USD budget (its own budget_usd or a guardrail budget
 * on it): cumulative spend per bucket against its budget lines. Budgets
 * count every agent's and model's spend, so only the goal filter
 * applies here. */
async function goalBurnDowns(
  ctx: QueryContext,
  buckets: SpendBucketInfo[],
  start: Date,
  end: Date,
): Promise<GoalBurnDown[]> {
  const goalFilter = ctx.filters.goal
    ? sql`and g.id = ${ctx.filters.goal}::uuid`
    : sql``;
  const lines = await queryRows<{
    goal_id: string;
    title: string;
    status: string;
    source: "goal" | "budget";
    id: string;
    period: GoalBudgetLine["period"];
    limit_usd: string;
  }>(
    ctx.db,
    sql`select g.id::text as goal_id, g.title, g.status, 'goal' as source,
          g.id::text as id, 'total' as period, g.budget_usd::text as limit_usd
        from goals g
        where g.project_id = ${ctx.projectId} and g.budget_usd is not null
          ${goalFilter}
        union all
        select g.id::text, g.title, g.status, 'budget', b.id::text, b.period,
          b.limit_amount::text
        from budgets b join goals g on g.id = b.goal_id
        where b.project_id = ${ctx.projectId} and b.scope = 'goal'
          and b.unit = 'usd' ${goalFilter}
        order by 2, 1, 4 desc, 7`,
  );
  if (lines.length === 0) return [];

  const goals = new Map<string, GoalBurnDown>();
  for (const line of lines) {
    const goal = goals.get(line.goal_id) ?? {
      goalId: line.goal_id,
      title: line.title,
      status: line.status,
      budgets: [],
      spentBeforeUsd: 0,
      points: [],
      spentToDateUsd: 0,
      lineUsd: null,
      remainingUsd: null,
    };
    goal.budgets.push({
      source: line.source,
      id: line.id,
      period: line.period,
      limitUsd: Number(line.limit_usd),
    });
    goals.set(line.goal_id, goal);
  }
  const ids = sql.join(
    [...goals.keys()].map((id) => sql`${id}::uuid`),
    sql`, `,
  );
  const spend = await queryRows<{
    goal_id: string;
    bucket: string | null;
    cost: string;
  }>(
    ctx.db,
    sql`select d.goal_id::text as goal_id,
          case when d.b is null then null else ${bucketText(ctx.bucket)} end
            as bucket,
          d.cost::text as cost
        from (
          select r.goal_id,
            case when r.hour < ${at(start)} then null
              else ${bucketStart(ctx.bucket, ctx.timeZone)} end as b,
            coalesce(sum(r.cost_usd), 0) as cost
          from spend_hourly r
          where r.project_id = ${ctx.projectId} and r.goal_id in (${ids})
            and r.hour < ${at(end)}
          group by 1, 2
        ) d`,
  );
  const byBucket = new Map<string, number>();
  for (const row of spend) {
    const goal = goals.get(row.goal_id);
    if (!goal) continue;
    if (row.bucket === null) goal.spentBeforeUsd += Number(row.cost);
    else byBucket.set(`${row.goal_id} ${row.bucket}`, Number(row.cost));
  }
  for (const goal of goals.values()) {
    let cumulative = goal.spentBeforeUsd;
    goal.points = buckets.map((b) => {
      const spendUsd = byBucket.get(`${goal.goalId} ${b.key}`) ?? 0;
      cumulative += spendUsd;

      return { bucket: b.key, spendUsd, cumulativeUsd: cumulative };
    });
    goal.spentToDateUsd = cumulative;
    const lasting = goal.budgets.filter((b) => b.period === "total");
    goal.lineUsd =
      lasting.length > 0 ? Math.min(...lasting.map((b) => b.limitUsd)) : null;
    goal.remainingUsd =
      goal.lineUsd === null ? null : goal.lineUsd - goal.spentToDateUsd;
  }

  return [...goals.values()];
}

/** What the filters offer: the project's agents and goals, and the models
 * with spend in the range. */
async function filterOptions(
  ctx: QueryContext,
  start: Date,
  end: Date,
): Promise<SpendOverview["options"]> {
  const [agents, goals, models] = await Promise.all([
    queryRows<{ id: string; name: string }>(
      ctx.db,
      sql`select id::text, name from agents
          where project_id = ${ctx.projectId} order by name, id`,
    ),
    queryRows<{ id: string; title: string }>(
      ctx.db,
      sql`select id::text, title from goals
          where project_id = ${ctx.projectId}
          order by created_at desc, id limit 500`,
    ),
    queryRows<{ model: string }>(
      ctx.db,
      sql`select distinct r.model from spend_hourly r
          where ${rollupsIn(ctx.projectId, start, end)}
            and r.model is not null
          order by 1 limit 200`,
    ),
  ]);

  return { agents, goals, models: models.map((row) => row.model) };
}
