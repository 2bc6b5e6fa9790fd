"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { useTRPC } from "@/components/trpc";
import { formatCount, formatUsd, uncountedLookups } from "./format";

// Context savings per UTC day: tokens agents were served, stacked under the
// tokens they saved against a baseline (the served section's whole
// document, or the three best whole documents), so a bar's height is what
// an agent without the context layer would have read. Below it, totals per
// agent with dollars, and the estimate at the last eval's hit@1.

type Baseline = "document" | "top3";

const baselineLabel: Record<Baseline, string> = {
  document: "whole document",
  top3: "top-3 documents",
};

function eachDay(days: number): string[] {
  const today = Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00Z`);

  return Array.from({ length: days }, (_, i) =>
    new Date(today - (days - 1 - i) * 86_400_000).toISOString().slice(0, 10),
  );
}

export function SavingsChart(props: { project: string; days?: number }) {
  const trpc = useTRPC();
  const days = props.days ?? 30;
  const [baseline, setBaseline] = useState<Baseline>("document");
  const savings = useQuery(
    trpc.context.savings.queryOptions({ projectSlug: props.project, days }),
  );
  const data = savings.data;
  const byDay = new Map(
    eachDay(days).map((day) => [day, { day, served: 0, saved: 0 }]),
  );
  for (const row of data?.days ?? []) {
    const point = byDay.get(row.day) ?? { day: row.day, served: 0, saved: 0 };
    point.served += row.servedTokens;
    point.saved +=
      baseline === "document" ? row.savedVsDocument : row.savedVsTop3;
    byDay.set(row.day, point);
  }
  const rows = [...byDay.values()];
  const estimate = data?.estimate;
  const measured = data?.atMeasuredCorrectness;
  const saved = (f: { savedVsDocument: number; savedVsTop3: number }) =>
    baseline === "document" ? f.savedVsDocument : f.savedVsTop3;
  const usd = (f: { usdSavedVsDocument: number; usdSavedVsTop3: number }) =>
    baseline === "document" ? f.usdSavedVsDocument : f.usdSavedVsTop3;

  return (
    <figure className="panel" aria-label="Context savings">
      <figcaption className="row" style={{ fontWeight: 600 }}>
        Context savings, last {days} days (UTC)
        <label
          className="row"
          style={{ fontWeight: 400, flexDirection: "row" }}
        >
          Baseline
          <select
            aria-label="Savings baseline"
            value={baseline}
            onChange={(e) => setBaseline(e.target.value as Baseline)}
          >
            <option value="document">Whole document</option>
            <option value="top3">Top-3 documents</option>
          </select>
        </label>
      </figcaption>
      {savings.isPending && <p className="muted">Loading savings…</p>}
      {savings.error && <p className="error">{savings.error.message}</p>}
      {estimate && (
        <p className="muted" data-testid="savings-summary">
          {formatCount(estimate.answered)} of {formatCount(estimate.lookups)}{" "}
          agent lookups answered; {formatCount(estimate.servedTokens)} tokens
          served, {formatCount(saved(estimate))} saved against the{" "}
          {baselineLabel[baseline]} ({formatUsd(usd(estimate))}, an estimate).{" "}
          {measured
            ? `At measured correctness (hit@1 ${measured.hitAt1.toFixed(2)} ` +
              `in the last eval): ${formatCount(saved(measured))} tokens, ` +
              `${formatUsd(usd(measured))}.`
            : "No eval recorded yet, so no figure at measured correctness."}
          {data.otherLookups.lookups > 0 &&
            ` ${uncountedLookups(data.otherLookups.lookups)}`}
        </p>
      )}
      {data && (
        <div style={{ width: "100%", height: 260 }}>
          <ResponsiveContainer>
            <BarChart
              data={rows}
              margin={{ top: 8, right: 8, left: 8, bottom: 0 }}
            >
              <CartesianGrid strokeDasharray="3 3" vertical={false} />
              <XAxis dataKey="day" tick={{ fontSize: 11 }} minTickGap={16} />
              <YAxis
                tick={{ fontSize: 11 }}
                width={72}
                tickFormatter={(v: number) => formatCount(v)}
              />
              <Tooltip
                formatter={(value) => `${formatCount(Number(value))} tokens`}
                labelFormatter={(label) => `Day ${String(label)} (UTC)`}
              />
              <Legend />
              <Bar
                dataKey="served"
                name="Tokens served"
                stackId="tokens"
                fill="#2451d6"
                isAnimationActive={false}
              />
              <Bar
                dataKey="saved"
                name={`Tokens saved vs ${baselineLabel[baseline]}`}
                stackId="tokens"
                fill="#059669"
                isAnimationActive={false}
              />
            </BarChart>
          </ResponsiveContainer>
        </div>
      )}
      {data && (
        <table aria-label="Savings by agent">
          <thead>
            <tr>
              <th>Agent</th>
              <th>Lookups</th>
              <th>No answer</th>
              <th>Served</th>
              <th>Saved</th>
              <th>Dollars saved</th>
              <th>Priced at</th>
            </tr>
          </thead>
          <tbody>
            {data.agents.length === 0 && (
              <tr>
                <td colSpan={7} className="muted">
                  No agent lookups in this range.
                </td>
              </tr>
            )}
            {data.agents.map((agent) => (
              <tr key={agent.agentId}>
                <td>{agent.agentName}</td>
                <td>{formatCount(agent.lookups)}</td>
                <td>{formatCount(agent.abstained)}</td>
                <td>{formatCount(agent.servedTokens)}</td>
                <td>{formatCount(saved(agent))}</td>
                <td>{formatUsd(usd(agent))}</td>
                <td className="muted">
                  {agent.model}
                  {agent.modelSource === "default" ? " (default)" : ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </figure>
  );
}
