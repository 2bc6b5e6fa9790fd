// Spend spikes: a bucket (day or hour) whose spend is more than `factor`
// times the median of the `window` buckets before it, and at least a
// small floor. Buckets with no spend count as $0 in the median, but a
// bucket is only judged when more than half of the window before it had
// spend: with less history there is no baseline, and a project's first
// busy days would all look like spikes. Each spike names the series
// (agent, model, goal or task) that spent the most in it.

export interface SpikePoint {
  bucket: string;
  key: string | null;
  name: string;
  costUsd: number | null;
}

export interface Spike {
  bucket: string;
  label: string;
  costUsd: number;
  /** Median spend of the buckets before it. */
  medianUsd: number;
  /** costUsd / medianUsd to two decimals; null when the median is $0. */
  ratio: number | null;
  top: { key: string | null; name: string; costUsd: number };
}

export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);

  return sorted.length % 2 === 1
    ? sorted[mid]
    : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function findSpikes(options: {
  /** Every bucket in order, the look-back ones before the range first. */
  buckets: { key: string; label: string }[];
  /** Keys of the buckets that may be reported. */
  inRange: Set<string>;
  points: SpikePoint[];
  window: number;
  factor: number;
  floorUsd: number;
}): Spike[] {
  const totals = new Map<string, number>();
  const tops = new Map<string, SpikePoint>();
  for (const point of options.points) {
    const cost = point.costUsd ?? 0;
    totals.set(point.bucket, (totals.get(point.bucket) ?? 0) + cost);
    const top = tops.get(point.bucket);
    if (cost > 0 && (!top || cost > (top.costUsd ?? 0))) {
      tops.set(point.bucket, point);
    }
  }
  const costs = options.buckets.map((b) => totals.get(b.key) ?? 0);
  const spikes: Spike[] = [];
  options.buckets.forEach((bucket, i) => {
    if (!options.inRange.has(bucket.key)) return;
    const cost = costs[i];
    const before = costs.slice(Math.max(0, i - options.window), i);
    const base = median(before);
    const history = before.filter((value) => value > 0).length;
    const top = tops.get(bucket.key);
    if (
      !top ||
      history * 2 <= options.window ||
      cost < options.floorUsd ||
      cost <= options.factor * base
    ) {
      return;
    }
    spikes.push({
      bucket: bucket.key,
      label: bucket.label,
      costUsd: cost,
      medianUsd: base,
      ratio: base > 0 ? Math.round((cost / base) * 100) / 100 : null,
      top: { key: top.key, name: top.name, costUsd: top.costUsd ?? 0 },
    });
  });

  return spikes;
}
