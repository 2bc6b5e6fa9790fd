"use client";

import {
  CartesianGrid,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { formatUsd } from "./format";
import { axisUsd } from "./spend-stack-chart";

// A goal's cumulative spend per bucket against its budget lines (the
// budgets that never reset), so a lead sees how close it runs and when
// it crossed.

export function BurnDownChart(props: {
  title: string;
  points: { label: string; cumulativeUsd: number }[];
  lines: { label: string; usd: number }[];
  bucketWord: string;
}) {
  const top = Math.max(
    0,
    ...props.points.map((p) => p.cumulativeUsd),
    ...props.lines.map((l) => l.usd),
  );

  return (
    <figure aria-label={props.title} style={{ margin: 0 }}>
      <div style={{ width: "100%", height: 200 }}>
        <ResponsiveContainer>
          <LineChart
            data={props.points}
            margin={{ top: 8, right: 8, left: 8, bottom: 0 }}
          >
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="label" tick={{ fontSize: 11 }} minTickGap={16} />
            <YAxis
              tick={{ fontSize: 11 }}
              tickFormatter={axisUsd}
              width={72}
              domain={[0, top * 1.1 || 1]}
            />
            <Tooltip
              formatter={(value) => formatUsd(Number(value))}
              labelFormatter={(label) => `${props.bucketWord} ${String(label)}`}
            />
            {props.lines.map((line) => (
              <ReferenceLine
                key={line.label}
                y={line.usd}
                stroke="#dc2626"
                strokeDasharray="6 3"
                label={{
                  value: line.label,
                  position: "insideTopLeft",
                  fontSize: 11,
                  fill: "#dc2626",
                }}
              />
            ))}
            <Line
              type="linear"
              dataKey="cumulativeUsd"
              name="Spent to date"
              stroke="#2451d6"
              dot={false}
              strokeWidth={2}
              isAnimationActive={false}
            />
          </LineChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}
