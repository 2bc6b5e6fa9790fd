"use client";

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
import { formatUsd } from "./format";

// Spend per day as stacked bars, one stack segment per series (an agent or
// a model). Days with no spend are still drawn so gaps are visible.

// Axis ticks need fewer digits than a table: cents unless the amounts are
// smaller than a dime.
function axisUsd(value: number): string {
  return `$${value.toFixed(value === 0 || Math.abs(value) >= 0.1 ? 2 : 4)}`;
}

export interface DailySpend {
  day: string;
  series: string;
  costUsd: number;
}

const palette = [
  "#2451d6",
  "#d97706",
  "#059669",
  "#db2777",
  "#7c3aed",
  "#0891b2",
  "#65a30d",
  "#dc2626",
  "#475569",
  "#ca8a04",
];

function eachDay(from: string, to: string): string[] {
  const days: string[] = [];
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end; t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }

  return days;
}

export function SpendByDayChart(props: {
  title: string;
  from: string;
  to: string;
  data: DailySpend[];
}) {
  // Series ordered by total spend, biggest at the bottom of each stack.
  const totals = new Map<string, number>();
  for (const point of props.data) {
    totals.set(point.series, (totals.get(point.series) ?? 0) + point.costUsd);
  }
  const series = [...totals].sort((a, b) => b[1] - a[1]).map(([name]) => name);
  const byDay = new Map<string, Record<string, number | string>>();
  for (const day of eachDay(props.from, props.to)) byDay.set(day, { day });
  for (const point of props.data) {
    const row = byDay.get(point.day) ?? { day: point.day };
    row[point.series] = ((row[point.series] as number) ?? 0) + point.costUsd;
    byDay.set(point.day, row);
  }
  const rows = [...byDay.values()];

  return (
    <figure className="panel" aria-label={props.title} style={{ margin: 0 }}>
      <figcaption style={{ fontWeight: 600, marginBottom: "0.5rem" }}>
        {props.title}
      </figcaption>
      {series.length === 0 ? (
        <p className="muted">No priced spend in this range.</p>
      ) : (
        <div style={{ width: "100%", height: 280 }}>
          <ResponsiveContainer>
            <BarChart
              data={rows}
              margin={{ top: 8, right: 8, left: 8, bottom: 0 }}
            >
              <CartesianGrid strokeDasharray="3 3" vertical={false} />
              <XAxis dataKey="day" tick={{ fontSize: 11 }} minTickGap={16} />
              <YAxis
                tick={{ fontSize: 11 }}
                tickFormatter={axisUsd}
                width={72}
              />
              <Tooltip
                formatter={(value) => formatUsd(Number(value))}
                labelFormatter={(label) => `Day ${String(label)} (UTC)`}
              />
              <Legend />
              {series.map((name, i) => (
                <Bar
                  key={name}
                  // A function, not the name: recharts reads a string key
                  // as a path, and model names hold dots (gpt-4.1).
                  dataKey={(row: Record<string, number>) => row[name] ?? 0}
                  name={name}
                  stackId="spend"
                  fill={palette[i % palette.length]}
                  isAnimationActive={false}
                />
              ))}
            </BarChart>
          </ResponsiveContainer>
        </div>
      )}
    </figure>
  );
}
