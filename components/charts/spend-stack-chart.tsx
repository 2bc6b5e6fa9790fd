"use client";

import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  ReferenceDot,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { formatUsd } from "./format";

// Spend over time as stacked bars: one bar per bucket (a local day or
// hour), one segment per series (an agent, model, goal or task). Buckets
// without spend are drawn empty so gaps show, and spikes get a marker above
// their bar. Past `maxSeries` series, the smallest are summed as "other".

export interface StackPoint {
  bucket: string;
  series: string;
  costUsd: number;
}

export const chartPalette = [
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

const OTHER = "other";

// Axis ticks need fewer digits than a table: cents unless the amounts are
// smaller than a dime.
export function axisUsd(value: number): string {
  const digits = value === 0 || Math.abs(value) >= 0.1 ? 2 : 4;

  return `$${value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  })}`;
}

export function SpendStackChart(props: {
  title: string;
  /** Every bucket in order: key and the label shown. */
  buckets: { key: string; label: string }[];
  data: StackPoint[];
  /** Bucket keys to mark as spikes. */
  spikes?: string[];
  /** What a bucket is, for the tooltip ("Day", "Hour"). */
  bucketWord: string;
  maxSeries?: number;
  /** How an x-axis tick shows a bucket's label; the tooltip keeps it
   * whole. */
  tickFormatter?: (label: string) => string;
}) {
  const maxSeries = props.maxSeries ?? 8;
  // Series ordered by total spend, biggest at the bottom of each stack.
  const totals = new Map<string, number>();
  for (const point of props.data) {
    totals.set(point.series, (totals.get(point.series) ?? 0) + point.costUsd);
  }
  const ranked = [...totals].sort((a, b) => b[1] - a[1]).map(([n]) => n);
  const kept = new Set(
    ranked.length > maxSeries ? ranked.slice(0, maxSeries - 1) : ranked,
  );
  const series = [
    ...ranked.filter((name) => kept.has(name)),
    ...(ranked.length > kept.size ? [OTHER] : []),
  ];
  const labels = new Map(props.buckets.map((b) => [b.key, b.label]));
  const byBucket = new Map<string, Record<string, number | string>>();
  for (const b of props.buckets) {
    byBucket.set(b.key, { bucket: b.label, total: 0 });
  }
  for (const point of props.data) {
    const row = byBucket.get(point.bucket);
    if (!row) continue;
    const name = kept.has(point.series) ? point.series : OTHER;
    row[name] = ((row[name] as number) ?? 0) + point.costUsd;
    row.total = (row.total as number) + point.costUsd;
  }
  const rows = [...byBucket.values()];

  return (
    <figure className="panel" aria-label={props.title}>
      <figcaption style={{ fontWeight: 600, marginBottom: "0.5rem" }}>
        {props.title}
      </figcaption>
      {series.length === 0 ? (
        <p className="muted">No priced spend in this range.</p>
      ) : (
        <div style={{ width: "100%", height: 300 }}>
          <ResponsiveContainer>
            <BarChart
              data={rows}
              margin={{ top: 16, right: 8, left: 8, bottom: 0 }}
            >
              <CartesianGrid strokeDasharray="3 3" vertical={false} />
              <XAxis
                dataKey="bucket"
                tick={{ fontSize: 11 }}
                minTickGap={16}
                tickFormatter={props.tickFormatter}
              />
              <YAxis
                tick={{ fontSize: 11 }}
                tickFormatter={axisUsd}
                width={72}
              />
              <Tooltip
                formatter={(value) => formatUsd(Number(value))}
                labelFormatter={(label) =>
                  `${props.bucketWord} ${String(label)}`
                }
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
                  fill={
                    name === OTHER
                      ? "#94a3b8"
                      : chartPalette[i % chartPalette.length]
                  }
                  isAnimationActive={false}
                />
              ))}
              {(props.spikes ?? []).map((key) => {
                const row = byBucket.get(key);

                return row ? (
                  <ReferenceDot
                    key={key}
                    x={labels.get(key)}
                    y={row.total as number}
                    r={5}
                    fill="#dc2626"
                    stroke="#fff"
                    ifOverflow="extendDomain"
                  />
                ) : null;
              })}
            </BarChart>
          </ResponsiveContainer>
        </div>
      )}
    </figure>
  );
}
