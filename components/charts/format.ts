// How the console prints money and token counts. A cost that is null is
// "unpriced", never $0.

/**
 * One rule for money: thousands separators; $1 and more with cents
 * ($3,030.55); below $1 up to 4 significant digits with trailing zeros
 * trimmed, but never fewer than two decimals ($0.50, $0.006, $0.00261).
 */
export function formatUsd(value: number | null | undefined): string {
  if (value === null || value === undefined) return "unpriced";
  if (value === 0) return "$0.00";
  const sign = value < 0 ? "-" : "";
  const abs = Math.abs(value);
  const small = abs < 1 ? Number(abs.toPrecision(4)) : abs;
  if (small >= 1) {
    return `${sign}$${abs.toLocaleString("en-US", {
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    })}`;
  }
  const text = small.toLocaleString("en-US", { maximumSignificantDigits: 4 });
  const decimals = text.length - text.indexOf(".") - 1;

  return `${sign}$${decimals < 2 ? small.toFixed(2) : text}`;
}

/** The amount as stored, for a title next to a rounded figure. */
export function formatUsdExact(value: number | null | undefined): string {
  if (value === null || value === undefined) return "unpriced";
  const sign = value < 0 ? "-" : "";

  return `${sign}$${Math.abs(value).toLocaleString("en-US", {
    minimumFractionDigits: 2,
    maximumFractionDigits: 12,
  })}`;
}

export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined) return "";

  return value.toLocaleString("en-US");
}

/** A count in few characters for tight columns: 950, 18.3k, 2.1M. */
export function formatCompact(value: number): string {
  const abs = Math.abs(value);
  if (abs < 1000) return String(value);
  const [unit, size] = abs < 999_950 ? ["k", 1e3] : ["M", 1e6];
  const text = (value / size).toFixed(1).replace(/\.0$/, "");

  return `${text}${unit}`;
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
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600)
    return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  const minutes = Math.round(ms / 60_000);

  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** The note under the savings figures on lookups they leave out: those by
 * people (the playground) and tools (the CLI with a person's token, the
 * eval). */
export function uncountedLookups(lookups: number): string {
  return lookups === 1
    ? "1 lookup by a person or tool is not counted."
    : `${formatCount(lookups)} lookups by people and tools are not counted.`;
}
