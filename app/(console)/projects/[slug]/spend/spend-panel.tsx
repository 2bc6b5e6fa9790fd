"use client";

import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc";
import { formatCount, formatUsd } from "@/components/charts/format";
import {
  SpendByDayChart,
  type DailySpend,
} from "@/components/charts/spend-by-day-chart";

// Spend per day for a chosen range (default: the last 30 days, UTC), stacked
// by agent and by model, with totals. Unpriced calls are counted apart and
// never shown as $0.

const DAY_MS = 86_400_000;

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

interface Totals {
  name: string;
  costUsd: number | null;
  calls: number;
  unpricedCalls: number;
  inputTokens: number;
  outputTokens: number;
}

function totalsBy(
  rows: {
    costUsd: number | null;
    calls: number;
    unpricedCalls: number;
    inputTokens: number;
    outputTokens: number;
  }[],
  nameOf: (index: number) => string,
): Totals[] {
  const out = new Map<string, Totals>();
  rows.forEach((row, i) => {
    const name = nameOf(i);
    const total = out.get(name) ?? {
      name,
      costUsd: null,
      calls: 0,
      unpricedCalls: 0,
      inputTokens: 0,
      outputTokens: 0,
    };
    if (row.costUsd !== null)
      total.costUsd = (total.costUsd ?? 0) + row.costUsd;
    total.calls += row.calls;
    total.unpricedCalls += row.unpricedCalls;
    total.inputTokens += row.inputTokens;
    total.outputTokens += row.outputTokens;
    out.set(name, total);
  });

  return [...out.values()].sort(
    (a, b) => (b.costUsd ?? -1) - (a.costUsd ?? -1),
  );
}

function TotalsTable(props: { label: string; rows: Totals[] }) {
  return (
    <table aria-label={`Spend by ${props.label}`}>
      <thead>
        <tr>
          <th>{props.label}</th>
          <th>Cost</th>
          <th>Calls</th>
          <th>Input tokens</th>
          <th>Output tokens</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.length === 0 && (
          <tr>
            <td colSpan={5} className="muted">
              No spend in this range.
            </td>
          </tr>
        )}
        {props.rows.map((row) => (
          <tr key={row.name}>
            <td>{row.name}</td>
            <td>
              {formatUsd(row.costUsd)}
              {row.unpricedCalls > 0 && row.costUsd !== null ? (
                <>
                  {" "}
                  <span className="badge warn">
                    + {row.unpricedCalls} unpriced
                  </span>
                </>
              ) : null}
            </td>
            <td>{formatCount(row.calls)}</td>
            <td>{formatCount(row.inputTokens)}</td>
            <td>{formatCount(row.outputTokens)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function SpendPanel(props: { project: string }) {
  const trpc = useTRPC();
  const today = new Date();
  const [from, setFrom] = useState(
    isoDay(new Date(today.getTime() - 29 * DAY_MS)),
  );
  const [to, setTo] = useState(isoDay(today));
  const range = { project: props.project, from, to };
  const valid = from !== "" && to !== "" && from <= to;

  const byAgent = useQuery({
    ...trpc.observability.spend.queryOptions({
      ...range,
      groupBy: ["day", "agent"],
    }),
    enabled: valid,
  });
  const byModel = useQuery({
    ...trpc.observability.spend.queryOptions({
      ...range,
      groupBy: ["day", "model"],
    }),
    enabled: valid,
  });
  const error = byAgent.error ?? byModel.error;

  const agentRows = byAgent.data?.rows ?? [];
  const modelRows = byModel.data?.rows ?? [];
  const agentSeries: DailySpend[] = agentRows.flatMap((r) =>
    r.costUsd === null || !r.day
      ? []
      : [
          {
            day: r.day,
            series: r.agent ?? "(unknown agent)",
            costUsd: r.costUsd,
          },
        ],
  );
  const modelSeries: DailySpend[] = modelRows.flatMap((r) =>
    r.costUsd === null || !r.day
      ? []
      : [{ day: r.day, series: r.model ?? "(no model)", costUsd: r.costUsd }],
  );
  const totals = byAgent.data?.totals;

  return (
    <>
      <form
        className="row panel"
        aria-label="Range"
        onSubmit={(event) => event.preventDefault()}
      >
        <label>
          From
          <input
            type="date"
            name="from"
            value={from}
            max={to}
            onChange={(e) => setFrom(e.target.value)}
          />
        </label>
        <label>
          To
          <input
            type="date"
            name="to"
            value={to}
            min={from}
            onChange={(e) => setTo(e.target.value)}
          />
        </label>
        <div>
          <div className="muted">Total in range</div>
          <strong data-testid="spend-total">
            {totals ? formatUsd(totals.costUsd ?? 0) : "…"}
          </strong>
          {totals && totals.unpricedCalls > 0 ? (
            <>
              {" "}
              <span className="badge warn">
                {totals.unpricedCalls} unpriced{" "}
                {totals.unpricedCalls === 1 ? "call" : "calls"}
              </span>
            </>
          ) : null}
        </div>
      </form>
      {!valid ? <p className="error">From must be on or before To.</p> : null}
      {error ? <p className="error">{error.message}</p> : null}
      {byAgent.isPending && valid ? <p className="muted">Loading…</p> : null}

      <div style={{ display: "grid", gap: "1rem" }}>
        <SpendByDayChart
          title="Spend per day by agent"
          from={from}
          to={to}
          data={agentSeries}
        />
        <SpendByDayChart
          title="Spend per day by model"
          from={from}
          to={to}
          data={modelSeries}
        />
      </div>

      <h2>By agent</h2>
      <TotalsTable
        label="Agent"
        rows={totalsBy(
          agentRows,
          (i) => agentRows[i].agent ?? "(unknown agent)",
        )}
      />
      <h2>By model</h2>
      <TotalsTable
        label="Model"
        rows={totalsBy(modelRows, (i) => modelRows[i].model ?? "(no model)")}
      />
      <p className="muted">
        Days are UTC. Costs come from the price table at ingest, or as the
        client reported them; calls to models missing from the table are counted
        as unpriced rather than $0.
      </p>
    </>
  );
}
