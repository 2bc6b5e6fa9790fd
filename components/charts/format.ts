// How the console prints money and token counts. A cost that is null is
// "unpriced", never $0.

export function formatUsd(value: number | null | undefined): string {
  if (value === null || value === undefined) return "unpriced";
  if (value === 0) return "$0.00";
  const abs = Math.abs(value);
  const digits = abs >= 1 ? 2 : abs >= 0.01 ? 4 : 6;

  return `$${value.toFixed(digits)}`;
}

export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined) return "";

  return value.toLocaleString("en-US");
}

/** UTC time, so server and browser render the same text. */
export function formatUtc(value: Date | string): string {
  const date = typeof value === "string" ? new Date(value) : value;

  return date.toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;

  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
