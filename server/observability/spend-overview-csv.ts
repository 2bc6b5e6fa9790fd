import type { Actor } from "@/server/identity/actor";
import type { Database } from "@/db/client";
import { csvCell } from "./spend";
import {
  spendOverview,
  type SpendMeasures,
  type SpendOverview,
} from "./spend-overview";

// The Spend page as one CSV: every table and chart the page shows for the
// same range and filters, one row per line, told apart by the `section`
// column so a spreadsheet filter on it gives back each table:
//   spend_by_<stack>  one row per bucket and series (the stacked chart)
//   total             the range's totals
//   top_agent, top_goal, top_model
//   completed_tasks   count, total and cost per completed task
//   completed_task    the most expensive completed tasks
//   burn_down         per budgeted goal and bucket, cumulative spend
//   spike             buckets far above their trailing median
// Costs are USD with 8 decimals; an unpriced cost is empty, never 0.

export const overviewCsvColumns = [
  "section",
  "bucket",
  "id",
  "name",
  "cost_usd",
  "calls",
  "unpriced_calls",
  "input_tokens",
  "output_tokens",
  "cache_read_tokens",
  "cache_write_tokens",
  "tasks",
  "cost_per_task_usd",
  "budget_usd",
  "cumulative_usd",
  "median_usd",
] as const;

type Column = (typeof overviewCsvColumns)[number];
type Line = Partial<Record<Column, string | number | null>>;

const usd = (value: number | null | undefined) =>
  value === null || value === undefined ? null : value.toFixed(8);

function measureCells(m: SpendMeasures): Line {
  return {
    cost_usd: usd(m.costUsd),
    calls: m.calls,
    unpriced_calls: m.unpricedCalls,
    input_tokens: m.inputTokens,
    output_tokens: m.outputTokens,
    cache_read_tokens: m.cacheReadTokens,
    cache_write_tokens: m.cacheWriteTokens,
  };
}

/** The overview as CSV text with a header row, CRLF line ends. */
export function overviewCsv(overview: SpendOverview): string {
  const labels = new Map(overview.buckets.map((b) => [b.key, b.label]));
  const label = (key: string) => labels.get(key) ?? key;
  const lines: Line[] = [];
  for (const point of overview.series) {
    lines.push({
      section: `spend_by_${overview.stackBy}`,
      bucket: label(point.bucket),
      id: point.key,
      name: point.name,
      ...measureCells(point),
    });
  }
  lines.push({
    section: "total",
    bucket: `${overview.from}..${overview.to}`,
    ...measureCells(overview.totals),
  });
  const tops = [
    ["top_agent", overview.top.agents],
    ["top_goal", overview.top.goals],
    ["top_model", overview.top.models],
  ] as const;
  for (const [section, spenders] of tops) {
    for (const spender of spenders) {
      lines.push({
        section,
        id: spender.key,
        name: spender.name,
        ...measureCells(spender),
      });
    }
  }
  const done = overview.completedTasks;
  lines.push({
    section: "completed_tasks",
    bucket: `${overview.from}..${overview.to}`,
    cost_usd: usd(done.costUsd),
    tasks: done.count,
    cost_per_task_usd: usd(done.costPerTaskUsd),
  });
  for (const task of done.mostExpensive) {
    lines.push({
      section: "completed_task",
      bucket: task.completedDay,
      id: task.taskId,
      name: task.title,
      ...measureCells(task),
    });
  }
  for (const goal of overview.burnDown) {
    for (const point of goal.points) {
      lines.push({
        section: "burn_down",
        bucket: label(point.bucket),
        id: goal.goalId,
        name: goal.title,
        cost_usd: usd(point.spendUsd),
        budget_usd: usd(goal.lineUsd),
        cumulative_usd: usd(point.cumulativeUsd),
      });
    }
  }
  for (const spike of overview.spikes) {
    lines.push({
      section: "spike",
      bucket: spike.label,
      id: spike.top.key,
      name: spike.top.name,
      cost_usd: usd(spike.costUsd),
      median_usd: usd(spike.medianUsd),
    });
  }
  const rows = lines.map((line) =>
    overviewCsvColumns.map((column) => csvCell(line[column])).join(","),
  );

  return [overviewCsvColumns.join(","), ...rows].join("\r\n") + "\r\n";
}

/** The Spend page's CSV for a range and filters, with a file name. */
export async function spendOverviewCsv(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<{ filename: string; csv: string }> {
  const overview = await spendOverview(db, actor, input);

  return {
    filename: `${overview.project}-spend-${overview.from}-to-${overview.to}.csv`,
    csv: overviewCsv(overview),
  };
}
