// How the Prices page prints rates, token counts and effective dates.

/** A rate in USD per million tokens: as many places as it has. */
export function usdPerMillion(rate: number): string {
  return `$${rate.toLocaleString("en-US", { maximumFractionDigits: 6 })}`;
}

export function tokens(count: number): string {
  return count.toLocaleString("en-US");
}

/** The day a price takes effect; the time too when it is not midnight
 * UTC. */
export function effectiveDay(value: Date | string): string {
  const iso = (value instanceof Date ? value : new Date(value)).toISOString();

  return iso.endsWith("T00:00:00.000Z")
    ? iso.slice(0, 10)
    : `${iso.slice(0, 16).replace("T", " ")} UTC`;
}
