"use client";

import { useState } from "react";
import { usePathname, useSearchParams } from "next/navigation";
import {
  keepPreviousData,
  useQuery,
  useQueryClient,
} from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc";
import { formatCount, formatUsd } from "@/components/charts/format";
import { SpendStackChart } from "@/components/charts/spend-stack-chart";
import { BurnDownChart } from "@/components/charts/burn-down-chart";
import { SavingsChart } from "@/components/charts/savings-chart";
import { selectCap } from "@/components/forms";
import type {
  GoalBurnDown,
  SpendOverview,
  SpendStack,
  Spender,
} from "@/server/observability/spend-overview";

// The Spend page: spend over a range of local days (the project's time
// zone), stacked by agent, model, goal or task, with the top spenders,
// cost per completed task, each budgeted goal's burn-down, spike callouts
// and the context layer's savings. Filters live in the URL so a view can
// be shared; the CSV download holds exactly the tables shown.

const filterKeys = [
  "from",
  "to",
  "stack",
  "bucket",
  "agent",
  "goal",
  "model",
] as const;
type FilterKey = (typeof filterKeys)[number];

const stackWords: Record<SpendStack, string> = {
  agent: "agent",
  model: "model",
  goal: "goal",
  task: "task",
};

function useSpendFilters() {
  const pathname = usePathname();
  const params = useSearchParams();
  const filters = Object.fromEntries(
    filterKeys.map((key) => [key, params.get(key) ?? ""]),
  ) as Record<FilterKey, string>;
  const setFilters = (changes: Partial<Record<FilterKey, string>>) => {
    const next = new URLSearchParams(params.toString());
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    const query = next.toString();
    // Next.js keeps useSearchParams in step with replaceState, without a
    // round trip to the server.
    window.history.replaceState(
      null,
      "",
      query ? `${pathname}?${query}` : pathname,
    );
  };

  return { filters, setFilters };
}

/** Hourly buckets cover at most this many days (the server's limit). */
const MAX_HOURLY_DAYS = 14;

/** Local days from `from` to `to`, both counted; null while one is unknown. */
function rangeDays(from: string, to: string): number | null {
  if (!from || !to) return null;

  return (
    Math.round(
      (Date.parse(`${to}T00:00Z`) - Date.parse(`${from}T00:00Z`)) / 86_400_000,
    ) + 1
  );
}

/** The Spend page's range without a From (the server's default). */
const DEFAULT_RANGE_DAYS = 30;

function localToday(): string {
  const now = new Date();
  const pad = (n: number) => String(n).padStart(2, "0");

  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

function daysUntilToday(from: string): number {
  const today = Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00Z`);
  const days = Math.round((today - Date.parse(`${from}T00:00Z`)) / 86_400_000);

  return Math.min(366, Math.max(1, days + 1));
}

function tokensOf(row: {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}): number {
  return (
    row.inputTokens +
    row.outputTokens +
    row.cacheReadTokens +
    row.cacheWriteTokens
  );
}

function CostCell(props: { costUsd: number | null; unpricedCalls: number }) {
  return (
    <td>
      {formatUsd(props.costUsd)}
      {props.unpricedCalls > 0 && props.costUsd !== null ? (
        <>
          {" "}
          <span className="badge warn">+ {props.unpricedCalls} unpriced</span>
        </>
      ) : null}
    </td>
  );
}

function TopTable(props: { label: string; rows: Spender[] }) {
  return (
    <table aria-label={`Spend by ${props.label.toLowerCase()}`}>
      <thead>
        <tr>
          <th>{props.label}</th>
          <th>Cost</th>
          <th>Calls</th>
          <th>Tokens</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.length === 0 && (
          <tr>
            <td colSpan={4} className="muted">
              No spend in this range.
            </td>
          </tr>
        )}
        {props.rows.map((row) => (
          <tr key={row.key ?? "none"}>
            <td>{row.name}</td>
            <CostCell costUsd={row.costUsd} unpricedCalls={row.unpricedCalls} />
            <td>{formatCount(row.calls)}</td>
            <td>{formatCount(tokensOf(row))}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Spikes(props: { overview: SpendOverview }) {
  const { spikes, bucket, stackBy, spikeFloorUsd } = props.overview;
  const unit = bucket === "day" ? "days" : "hours";

  return (
    <section className="panel" aria-label="Spikes">
      <h2 style={{ marginTop: 0 }}>Spikes</h2>
      {spikes.length === 0 ? (
        <p className="muted">
          No {bucket} cost more than three times the median of the 7 {unit}{" "}
          before it (and at least {formatUsd(spikeFloorUsd)}). A {bucket} is
          judged once more than half of the 7 before it had spend.
        </p>
      ) : (
        <ul data-testid="spikes">
          {spikes.map((spike) => (
            <li key={spike.bucket}>
              <strong>{spike.label}</strong>: {formatUsd(spike.costUsd)},{" "}
              {spike.ratio === null
                ? `after nothing in the 7 ${unit} before`
                : `${spike.ratio.toFixed(1)}× the median of ${formatUsd(spike.medianUsd)} over the 7 ${unit} before`}
              ; most from {stackWords[stackBy]}{" "}
              <strong>{spike.top.name}</strong> ({formatUsd(spike.top.costUsd)})
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

const periodWords = {
  day: "per day",
  week: "per week",
  month: "per month",
  total: "in total",
} as const;

function BurnDown(props: {
  goals: GoalBurnDown[];
  labels: Map<string, string>;
  bucketWord: string;
}) {
  return (
    <section className="panel" aria-label="Goal budgets">
      <h2 style={{ marginTop: 0 }}>Goal budgets</h2>
      {props.goals.length === 0 ? (
        <p className="muted">
          No goal in view has a budget in USD. Set one on the goal or as a
          guardrail budget.
        </p>
      ) : (
        <div
          className="cards"
          style={{
            gridTemplateColumns:
              "repeat(auto-fill, minmax(min(420px, 100%), 1fr))",
          }}
        >
          {props.goals.map((goal) => {
            const line = goal.lineUsd;
            const percent =
              line !== null && line > 0
                ? Math.round((goal.spentToDateUsd / line) * 100)
                : null;

            return (
              <article
                key={goal.goalId}
                aria-label={`Budget of ${goal.title}`}
                style={{
                  border: "1px solid var(--border)",
                  borderRadius: 8,
                  padding: "0.75rem",
                }}
              >
                <h3 style={{ margin: "0 0 0.25rem" }}>{goal.title}</h3>
                <p style={{ margin: "0 0 0.25rem" }}>
                  Spent to date{" "}
                  <strong data-testid="goal-spent">
                    {formatUsd(goal.spentToDateUsd)}
                  </strong>
                  {line !== null && (
                    <>
                      {" "}
                      of {formatUsd(line)} ({percent}%){" "}
                      {goal.remainingUsd !== null && goal.remainingUsd < 0 ? (
                        <span className="badge danger">
                          over by {formatUsd(-goal.remainingUsd)}
                        </span>
                      ) : (
                        <span className="badge ok">
                          {formatUsd(goal.remainingUsd)} left
                        </span>
                      )}
                    </>
                  )}
                </p>
                <p className="muted" style={{ margin: "0 0 0.5rem" }}>
                  {goal.budgets
                    .map(
                      (b) =>
                        `${b.source === "goal" ? "Goal budget" : "Guardrail budget"} ${formatUsd(b.limitUsd)} ${periodWords[b.period]}`,
                    )
                    .join(" · ")}
                  {goal.spentBeforeUsd > 0 &&
                    ` · ${formatUsd(goal.spentBeforeUsd)} spent before this range`}
                </p>
                <BurnDownChart
                  title={`Burn-down of ${goal.title}`}
                  bucketWord={props.bucketWord}
                  points={goal.points.map((p) => ({
                    label: props.labels.get(p.bucket) ?? p.bucket,
                    cumulativeUsd: p.cumulativeUsd,
                  }))}
                  lines={goal.budgets
                    .filter((b) => b.period === "total")
                    .map((b) => ({
                      label: `${b.source === "goal" ? "goal" : "guardrail"} ${formatUsd(b.limitUsd)}`,
                      usd: b.limitUsd,
                    }))}
                />
              </article>
            );
          })}
        </div>
      )}
    </section>
  );
}

/** Distinct legend names: two tasks with one title get their id's start. */
function seriesNames(overview: SpendOverview): Map<string | null, string> {
  const byName = new Map<string, Set<string | null>>();
  for (const point of overview.series) {
    const keys = byName.get(point.name) ?? new Set();
    keys.add(point.key);
    byName.set(point.name, keys);
  }
  const names = new Map<string | null, string>();
  for (const point of overview.series) {
    const shared = (byName.get(point.name)?.size ?? 0) > 1;
    names.set(
      point.key,
      shared && point.key
        ? `${point.name} · ${point.key.slice(0, 8)}`
        : point.name,
    );
  }

  return names;
}

export function SpendPanel(props: { project: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { filters, setFilters } = useSpendFilters();
  const [exportError, setExportError] = useState<string | null>(null);
  const [exporting, setExporting] = useState(false);
  // The range asked for: the URL's; without To, the server's today (from
  // an earlier answer that had no To either, else the browser's); without
  // From, the server's default of 30 days.
  const serverToday = queryClient
    .getQueryCache()
    .findAll({
      queryKey: trpc.observability.spendOverview.queryKey({
        project: props.project,
      }),
    })
    .filter((query) => {
      const key = query.queryKey[1] as { input?: { to?: string } } | undefined;
      return query.state.data !== undefined && !key?.input?.to;
    })
    .sort((a, b) => b.state.dataUpdatedAt - a.state.dataUpdatedAt)
    .map((query) => (query.state.data as SpendOverview).to)[0];
  const shownTo = filters.to || serverToday || localToday();
  const shownDays = filters.from
    ? rangeDays(filters.from, shownTo)
    : DEFAULT_RANGE_DAYS;
  // Hours are asked for only over a range the server draws them for; a
  // longer range falls back to days instead of a request that must fail.
  const hoursAllowed = shownDays !== null && shownDays <= MAX_HOURLY_DAYS;
  const hoursTooLong = filters.bucket === "hour" && !hoursAllowed;
  const input = {
    project: props.project,
    ...(filters.from ? { from: filters.from } : {}),
    ...(filters.to ? { to: filters.to } : {}),
    bucket: (["day", "hour"].includes(filters.bucket) && !hoursTooLong
      ? filters.bucket
      : "auto") as "day" | "hour" | "auto",
    stackBy: (["agent", "model", "goal", "task"].includes(filters.stack)
      ? filters.stack
      : "agent") as SpendStack,
    ...(filters.agent ? { agent: filters.agent } : {}),
    ...(filters.goal ? { goal: filters.goal } : {}),
    ...(filters.model ? { model: filters.model } : {}),
  };
  const backwards =
    filters.from !== "" && filters.to !== "" && filters.from > filters.to;
  const overview = useQuery({
    ...trpc.observability.spendOverview.queryOptions(input),
    enabled: !backwards,
    placeholderData: keepPreviousData,
  });
  const data = overview.data;
  const from = filters.from || data?.from || "";
  const to = filters.to || data?.to || "";

  /** A new From or To; a range too long for hours drops back to Auto. */
  function setRange(change: { from: string } | { to: string }) {
    const next = { from, to, ...change };
    const days = rangeDays(next.from, next.to);
    setFilters({
      ...change,
      ...(filters.bucket === "hour" && (days === null || days > MAX_HOURLY_DAYS)
        ? { bucket: "" }
        : {}),
    });
  }

  async function exportCsv() {
    setExportError(null);
    setExporting(true);
    try {
      const file = await queryClient.fetchQuery(
        trpc.observability.spendOverviewCsv.queryOptions(input),
      );
      const url = URL.createObjectURL(
        new Blob([file.csv], { type: "text/csv;charset=utf-8" }),
      );
      const link = document.createElement("a");
      link.href = url;
      link.download = file.filename;
      document.body.append(link);
      link.click();
      link.remove();
      // The browser has taken the file once the click is handled.
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      setExportError(error instanceof Error ? error.message : String(error));
    } finally {
      setExporting(false);
    }
  }

  const labels = new Map((data?.buckets ?? []).map((b) => [b.key, b.label]));
  const names = data ? seriesNames(data) : new Map<string | null, string>();
  const bucketWord = data?.bucket === "hour" ? "Hour" : "Day";
  const tokens = data ? tokensOf(data.totals) : 0;
  const done = data?.completedTasks;

  return (
    <>
      <form
        className="row panel"
        aria-label="Spend filters"
        onSubmit={(event) => event.preventDefault()}
        style={{ alignItems: "flex-end" }}
      >
        <label>
          From
          <input
            type="date"
            name="from"
            value={from}
            max={to || undefined}
            onChange={(e) => setRange({ from: e.target.value })}
          />
        </label>
        <label>
          To
          <input
            type="date"
            name="to"
            value={to}
            min={from || undefined}
            onChange={(e) => setRange({ to: e.target.value })}
          />
        </label>
        <label>
          Stack by
          <select
            aria-label="Stack by"
            value={input.stackBy}
            onChange={(e) =>
              setFilters({
                stack: e.target.value === "agent" ? "" : e.target.value,
              })
            }
          >
            <option value="agent">Agent</option>
            <option value="model">Model</option>
            <option value="goal">Goal</option>
            <option value="task">Task</option>
          </select>
        </label>
        <label>
          Buckets
          <select
            aria-label="Buckets"
            value={input.bucket}
            onChange={(e) =>
              setFilters({
                bucket: e.target.value === "auto" ? "" : e.target.value,
              })
            }
          >
            <option value="auto">Auto</option>
            <option value="day">Days</option>
            <option
              value="hour"
              disabled={!hoursAllowed}
              title={`Hours cover at most ${MAX_HOURLY_DAYS} days${hoursAllowed ? "" : ": narrow the range first"}`}
            >
              Hours
            </option>
          </select>
        </label>
        <label>
          Agent
          <select
            aria-label="Agent"
            style={selectCap}
            value={filters.agent}
            onChange={(e) => setFilters({ agent: e.target.value })}
          >
            <option value="">All agents</option>
            {data?.options.agents.map((agent) => (
              <option key={agent.id} value={agent.id}>
                {agent.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Goal
          <select
            aria-label="Goal"
            style={selectCap}
            value={filters.goal}
            onChange={(e) => setFilters({ goal: e.target.value })}
          >
            <option value="">All goals</option>
            {data?.options.goals.map((goal) => (
              <option key={goal.id} value={goal.id}>
                {goal.title}
              </option>
            ))}
          </select>
        </label>
        <label>
          Model
          <select
            aria-label="Model"
            value={filters.model}
            onChange={(e) => setFilters({ model: e.target.value })}
          >
            <option value="">All models</option>
            {[
              ...new Set([
                ...(data?.options.models ?? []),
                ...(filters.model ? [filters.model] : []),
              ]),
            ].map((model) => (
              <option key={model} value={model}>
                {model}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          className="secondary"
          onClick={exportCsv}
          disabled={exporting || !data || backwards}
        >
          {exporting ? "Exporting…" : "Export CSV"}
        </button>
      </form>

      {backwards ? (
        <p className="error">From must be on or before To.</p>
      ) : null}
      {hoursTooLong ? (
        <p className="muted" role="status">
          Hours cover at most {MAX_HOURLY_DAYS} days; this range is shown in
          days.
        </p>
      ) : null}
      {overview.error ? (
        <p className="error">{overview.error.message}</p>
      ) : null}
      {exportError ? <p className="error">{exportError}</p> : null}
      {overview.isPending && !backwards ? (
        <p className="muted">Loading…</p>
      ) : null}

      {data && (
        <>
          <section
            className="panel row"
            aria-label="Summary"
            style={{ gap: "1rem 2rem", alignItems: "flex-start" }}
          >
            <div>
              <div className="muted">Total in range</div>
              <strong data-testid="spend-total" style={{ fontSize: "1.4rem" }}>
                {formatUsd(data.totals.costUsd ?? 0)}
              </strong>
              {data.totals.unpricedCalls > 0 ? (
                <>
                  {" "}
                  <span className="badge warn">
                    {data.totals.unpricedCalls} unpriced{" "}
                    {data.totals.unpricedCalls === 1 ? "call" : "calls"}
                  </span>
                </>
              ) : null}
            </div>
            <div>
              <div className="muted">Calls</div>
              <strong>{formatCount(data.totals.calls)}</strong>
            </div>
            <div>
              <div className="muted">Tokens spent</div>
              <strong data-testid="tokens-spent">{formatCount(tokens)}</strong>
            </div>
            <div>
              <div className="muted">Cost per completed task</div>
              <strong data-testid="cost-per-task">
                {done && done.costPerTaskUsd !== null
                  ? formatUsd(done.costPerTaskUsd)
                  : "–"}
              </strong>{" "}
              <span className="muted">
                ({formatCount(done?.count ?? 0)}{" "}
                {done?.count === 1 ? "task" : "tasks"} done)
              </span>
            </div>
          </section>

          <SpendStackChart
            title={`Spend per ${data.bucket} by ${stackWords[data.stackBy]}`}
            bucketWord={bucketWord}
            buckets={data.buckets}
            spikes={data.spikes.map((s) => s.bucket)}
            // "12-01 09:00": the year is in the range above.
            tickFormatter={
              data.bucket === "hour" ? (label) => label.slice(5) : undefined
            }
            data={data.series.flatMap((p) =>
              p.costUsd === null
                ? []
                : [
                    {
                      bucket: p.bucket,
                      series: names.get(p.key) ?? p.name,
                      costUsd: p.costUsd,
                    },
                  ],
            )}
          />
          <p className="muted">
            {data.bucket === "day" ? "Days" : "Hours"} are local to{" "}
            <strong>{data.timeZone}</strong>, from {data.from} to {data.to}.{" "}
            {data.partHourZone &&
              `${data.timeZone} is offset from UTC by part of an hour and spend is kept per UTC hour, so the hour that straddles local midnight counts to the earlier day. `}
            Costs come from the price table at ingest, or as the client reported
            them; calls to models missing from the table are counted as unpriced
            rather than $0.
          </p>

          <Spikes overview={data} />

          <div className="cards">
            <section className="panel" aria-label="Top agents">
              <h2 style={{ marginTop: 0 }}>Top agents</h2>
              <TopTable label="Agent" rows={data.top.agents} />
            </section>
            <section className="panel" aria-label="Top goals">
              <h2 style={{ marginTop: 0 }}>Top goals</h2>
              <TopTable label="Goal" rows={data.top.goals} />
            </section>
            <section className="panel" aria-label="Top models">
              <h2 style={{ marginTop: 0 }}>Top models</h2>
              <TopTable label="Model" rows={data.top.models} />
            </section>
          </div>

          <section className="panel" aria-label="Completed tasks">
            <h2 style={{ marginTop: 0 }}>Completed tasks</h2>
            <p>
              {done && done.count > 0
                ? `${formatCount(done.count)} ${done.count === 1 ? "task" : "tasks"} completed in this range cost ${formatUsd(done.costUsd ?? 0)} in all${done.costPerTaskUsd !== null ? `, ${formatUsd(done.costPerTaskUsd)} per task` : ""}. `
                : "No task was completed in this range. "}
              <span className="muted">
                A task&apos;s cost is everything spent on it, also before the
                range
                {data.filters.agent || data.filters.model
                  ? ", by the agent and model filtered on"
                  : ""}
                .
              </span>
              {done && done.unpricedTasks > 0 ? (
                <>
                  {" "}
                  <span className="badge warn">
                    {done.unpricedTasks} with no priced call
                  </span>
                </>
              ) : null}
            </p>
            <table aria-label="Most expensive completed tasks">
              <thead>
                <tr>
                  <th>Task</th>
                  <th>Goal</th>
                  <th>Completed</th>
                  <th>Cost</th>
                  <th>Calls</th>
                  <th>Tokens</th>
                </tr>
              </thead>
              <tbody>
                {done?.mostExpensive.length === 0 && (
                  <tr>
                    <td colSpan={6} className="muted">
                      No task was completed in this range.
                    </td>
                  </tr>
                )}
                {done?.mostExpensive.map((task) => (
                  <tr key={task.taskId}>
                    <td>{task.title}</td>
                    <td>{task.goal}</td>
                    <td>{task.completedDay}</td>
                    <CostCell
                      costUsd={task.costUsd}
                      unpricedCalls={task.unpricedCalls}
                    />
                    <td>{formatCount(task.calls)}</td>
                    <td>{formatCount(tokensOf(task))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>

          <BurnDown
            goals={data.burnDown}
            labels={labels}
            bucketWord={bucketWord}
          />

          <section className="panel" aria-label="Tokens">
            <h2 style={{ marginTop: 0 }}>Tokens spent and saved</h2>
            <p>
              Agents spent <strong>{formatCount(tokens)}</strong> tokens in this
              range: {formatCount(data.totals.inputTokens)} input,{" "}
              {formatCount(data.totals.outputTokens)} output,{" "}
              {formatCount(data.totals.cacheReadTokens)} cache reads,{" "}
              {formatCount(data.totals.cacheWriteTokens)} cache writes. What the
              context layer saved them, from its ledger, since {data.from}:
            </p>
            <SavingsChart
              project={props.project}
              days={daysUntilToday(data.from)}
            />
          </section>
        </>
      )}
    </>
  );
}
