// How the Prices page prints rates, token counts and effective dates.

/** A rate in USD per million tokens: as many places as it has. */
export function usdPerMillion(rate: number): string {
  return `$${rate.toLocaleString("en-US", { maximumFractionDigits: 6 })}`;
}

export function tokens(count: number): string {
  return count.toLocaleString("en-US");
}

/** The date saved for a price given no date (ALL_TIME in
 * server/observability/price-overrides.ts): it applies to every event. */
const ALL_TIME_ISO = "2000-01-01T00:00:00.000Z";

/** The day a price takes effect, "always" for one saved without a date;
 * the time too when it is not midnight UTC. */
export function effectiveDay(value: Date | string): string {
  const iso = (value instanceof Date ? value : new Date(value)).toISOString();
  if (iso === ALL_TIME_ISO) return "always";

  return iso.endsWith("T00:00:00.000Z")
    ? iso.slice(0, 10)
    : `${iso.slice(0, 16).replace("T", " ")} UTC`;
}
