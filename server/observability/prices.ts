import { now } from "@/server/runtime";

// The price table: USD per million tokens, by model family, each price
// with the day it took effect. A model id belongs to the first family
// whose pattern it fits, so dated ids (claude-sonnet-4-5-20250929) and
// provider prefixes (anthropic/...) land on their family. Order matters:
// narrower families come before broader ones. A family may list several
// prices (a price cut); an event is priced at the one in force at its
// time. A project's own prices (price_overrides) come before the table.
//
// Known shortcoming: long-prompt tiers (Gemini 2.5 Pro over 200k tokens) and
// batch discounts are not modelled; those requests are priced at the
// standard tier.

/** USD per million tokens of each kind. */
export interface Rates {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
}

export interface ModelPrice extends Rates {
  /** Family name shown in the console and used to group spend. */
  family: string;
  provider: "anthropic" | "openai" | "google";
  pattern: RegExp;
  /** The day (UTC) this price took effect, YYYY-MM-DD. */
  effectiveFrom: string;
}

/** Prices checked against the providers' pricing pages in December 2026. */
export const PRICES_CHECKED_ON = "2026-12-01";

// Anthropic: cache writes cost 1.25x input (5 minutes) or 2x (1 hour); cache
// reads 0.1x.
function anthropic(input: number, output: number): Rates {
  return {
    input,
    output,
    cacheRead: input / 10,
    cacheWrite5m: input * 1.25,
    cacheWrite1h: input * 2,
  };
}

// OpenAI and Google charge no premium to write a cache: a write is plain
// input. Google bills cache storage per hour, which is not per-token spend.
function writeAtInput(input: number, cacheRead: number, output: number): Rates {
  return { input, output, cacheRead, cacheWrite5m: input, cacheWrite1h: input };
}

function entry(
  family: string,
  provider: ModelPrice["provider"],
  pattern: RegExp,
  effectiveFrom: string,
  rates: Rates,
): ModelPrice {
  return { family, provider, pattern, effectiveFrom, ...rates };
}

// Each date is the day the price took effect: the model's release at that
// price, or the day of a price change.
const O3 = /(^|\/)o3(?![-\w])|(^|\/)o3-\d{4}/;

export const priceTable: ModelPrice[] = [
  // Anthropic. Opus from 4.5 on costs a third of Opus 4 / 4.1.
  entry(
    "claude-opus-4-5+",
    "anthropic",
    /claude-opus-4[-.][5-9]/,
    "2025-11-24",
    anthropic(5, 25),
  ),
  entry(
    "claude-opus-4-1",
    "anthropic",
    /claude-opus-4[-.]1/,
    "2025-08-05",
    anthropic(15, 75),
  ),
  entry(
    "claude-opus-4",
    "anthropic",
    /claude-opus-4/,
    "2025-05-22",
    anthropic(15, 75),
  ),
  entry(
    "claude-sonnet-4",
    "anthropic",
    /claude-sonnet-4|claude-4-sonnet/,
    "2025-05-22",
    anthropic(3, 15),
  ),
  entry(
    "claude-sonnet-3-7",
    "anthropic",
    /claude-3[-.]7-sonnet/,
    "2025-02-24",
    anthropic(3, 15),
  ),
  entry(
    "claude-sonnet-3-5",
    "anthropic",
    /claude-3[-.]5-sonnet/,
    "2024-06-20",
    anthropic(3, 15),
  ),
  entry(
    "claude-haiku-4-5",
    "anthropic",
    /claude-haiku-4[-.]5/,
    "2025-10-15",
    anthropic(1, 5),
  ),
  entry(
    "claude-haiku-3-5",
    "anthropic",
    /claude-3[-.]5-haiku|claude-haiku-3[-.]5/,
    "2024-11-04",
    anthropic(0.8, 4),
  ),
  entry(
    "claude-opus-3",
    "anthropic",
    /claude-3-opus/,
    "2024-03-04",
    anthropic(15, 75),
  ),
  entry("claude-haiku-3", "anthropic", /claude-3-haiku/, "2024-03-13", {
    input: 0.25,
    output: 1.25,
    cacheRead: 0.03,
    cacheWrite5m: 0.3,
    cacheWrite1h: 0.5,
  }),

  // OpenAI. Cached input is the "cache read" rate.
  entry(
    "gpt-5-pro",
    "openai",
    /gpt-5(\.1)?-pro/,
    "2025-10-06",
    writeAtInput(15, 15, 120),
  ),
  // Dated at the GPT-5 release, before the codex models came out.
  entry(
    "gpt-5-codex-mini",
    "openai",
    /gpt-5(\.1)?-codex-mini/,
    "2025-08-07",
    writeAtInput(0.25, 0.025, 2),
  ),
  entry(
    "gpt-5-nano",
    "openai",
    /gpt-5(\.1)?-nano/,
    "2025-08-07",
    writeAtInput(0.05, 0.005, 0.4),
  ),
  entry(
    "gpt-5-mini",
    "openai",
    /gpt-5(\.1)?-mini/,
    "2025-08-07",
    writeAtInput(0.25, 0.025, 2),
  ),
  entry(
    "gpt-5",
    "openai",
    /gpt-5(\.1)?(?![.\d])/,
    "2025-08-07",
    writeAtInput(1.25, 0.125, 10),
  ),
  entry(
    "gpt-4.1-nano",
    "openai",
    /gpt-4\.1-nano/,
    "2025-04-14",
    writeAtInput(0.1, 0.025, 0.4),
  ),
  entry(
    "gpt-4.1-mini",
    "openai",
    /gpt-4\.1-mini/,
    "2025-04-14",
    writeAtInput(0.4, 0.1, 1.6),
  ),
  entry("gpt-4.1", "openai", /gpt-4\.1/, "2025-04-14", writeAtInput(2, 0.5, 8)),
  entry(
    "gpt-4o-mini",
    "openai",
    /gpt-4o-mini/,
    "2024-07-18",
    writeAtInput(0.15, 0.075, 0.6),
  ),
  entry(
    "gpt-4o",
    "openai",
    /gpt-4o/,
    "2024-08-06",
    writeAtInput(2.5, 1.25, 10),
  ),
  entry(
    "o4-mini",
    "openai",
    /(^|\/)o4-mini/,
    "2025-04-16",
    writeAtInput(1.1, 0.275, 4.4),
  ),
  entry(
    "o3-pro",
    "openai",
    /(^|\/)o3-pro/,
    "2025-06-10",
    writeAtInput(20, 20, 80),
  ),
  entry(
    "o3-mini",
    "openai",
    /(^|\/)o3-mini/,
    "2025-01-31",
    writeAtInput(1.1, 0.55, 4.4),
  ),
  // o3 launched at $10 / $40 and was cut by 80% on 10 June 2025.
  entry("o3", "openai", O3, "2025-04-16", writeAtInput(10, 2.5, 40)),
  entry("o3", "openai", O3, "2025-06-10", writeAtInput(2, 0.5, 8)),
  entry(
    "o1-mini",
    "openai",
    /(^|\/)o1-mini/,
    "2024-09-12",
    writeAtInput(1.1, 0.55, 4.4),
  ),
  entry(
    "o1",
    "openai",
    /(^|\/)o1(?![-\w])|(^|\/)o1-\d{4}/,
    "2024-12-17",
    writeAtInput(15, 7.5, 60),
  ),

  // Google, at the standard (up to 200k token prompt) tier.
  entry(
    "gemini-3-pro",
    "google",
    /gemini-3-pro/,
    "2025-11-18",
    writeAtInput(2, 0.2, 12),
  ),
  entry(
    "gemini-2.5-flash-lite",
    "google",
    /gemini-2\.5-flash-lite/,
    "2025-07-22",
    writeAtInput(0.1, 0.01, 0.4),
  ),
  entry(
    "gemini-2.5-flash",
    "google",
    /gemini-2\.5-flash/,
    "2025-06-17",
    writeAtInput(0.3, 0.03, 2.5),
  ),
  entry(
    "gemini-2.5-pro",
    "google",
    /gemini-2\.5-pro/,
    "2025-06-17",
    writeAtInput(1.25, 0.125, 10),
  ),
  entry(
    "gemini-2.0-flash-lite",
    "google",
    /gemini-2\.0-flash-lite/,
    "2025-02-25",
    writeAtInput(0.075, 0.075, 0.3),
  ),
  entry(
    "gemini-2.0-flash",
    "google",
    /gemini-2\.0-flash/,
    "2025-02-05",
    writeAtInput(0.1, 0.025, 0.4),
  ),
];

/** The moment a table date (YYYY-MM-DD, UTC) begins. */
export function dayStart(day: string): Date {
  return new Date(`${day}T00:00:00.000Z`);
}

// The entry of `family` in force at `at`: the latest one that took effect
// by then. An event stamped before the family's first price (a client
// clock running behind, or a model tried before its public release) gets
// that first price, the earliest one known.
function inForce(family: ModelPrice[], at: Date): ModelPrice {
  const byDate = [...family].sort((a, b) =>
    a.effectiveFrom < b.effectiveFrom ? -1 : 1,
  );
  let chosen = byDate[0];
  for (const price of byDate) {
    if (dayStart(price.effectiveFrom).getTime() <= at.getTime()) {
      chosen = price;
    }
  }

  return chosen;
}

/** The table's price for a model id at a moment (now by default), or null
 * when the model is not in the table. */
export function priceFor(
  model: string | null | undefined,
  at: Date = now(),
): ModelPrice | null {
  if (!model) return null;
  const id = model.trim().toLowerCase();
  const first = priceTable.find((price) => price.pattern.test(id));
  if (!first) return null;

  return inForce(
    priceTable.filter((price) => price.family === first.family),
    at,
  );
}

/** A project's own price for the models its glob pattern matches, from
 * effectiveFrom on (a row of price_overrides, rates as numbers). */
export interface PriceOverride extends Rates {
  id: string;
  pattern: string;
  label: string | null;
  effectiveFrom: Date;
}

/** A glob over model ids: * is any run of characters, the rest is taken
 * literally; the whole id must match, ignoring case. */
export function globToRegExp(glob: string): RegExp {
  const parts = glob
    .trim()
    .toLowerCase()
    .split("*")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"));
  if (parts.length === 1) return new RegExp(`^${parts[0]}$`);
  // Each inner part is taken at its first place after the one before: a
  // look-ahead never backtracks, and taking the earliest place leaves the
  // most room for the rest. So `*-*-*-x` reads a long id once per part
  // rather than trying every way to split it.
  const inner = parts
    .slice(1, -1)
    .map((part, i) => `(?=(.*?${part}))\\${i + 1}`)
    .join("");

  return new RegExp(`^${parts[0]}${inner}.*${parts.at(-1)}$`);
}

// Ingest prices every event against every override of its project, so
// each pattern is compiled once (a bounded cache).
const globCache = new Map<string, RegExp>();

function compiledGlob(glob: string): RegExp {
  let compiled = globCache.get(glob);
  if (!compiled) {
    if (globCache.size >= 1000) globCache.clear();
    compiled = globToRegExp(glob);
    globCache.set(glob, compiled);
  }

  return compiled;
}

// Narrower patterns first: the one with more literal characters wins, so
// "llama-3.1-*" beats "llama-*" and "*".
function literalLength(pattern: string): number {
  return pattern.replaceAll("*", "").length;
}

/** The project's price for a model id at a moment: among overrides whose
 * pattern matches and that took effect by then, the narrowest pattern, at
 * its latest price. An override never reaches back before its date. */
export function overrideFor(
  overrides: readonly PriceOverride[],
  model: string | null | undefined,
  at: Date,
): PriceOverride | null {
  if (!model) return null;
  const id = model.trim().toLowerCase();
  let best: PriceOverride | null = null;
  for (const candidate of overrides) {
    if (candidate.effectiveFrom.getTime() > at.getTime()) continue;
    if (!compiledGlob(candidate.pattern).test(id)) continue;
    if (!best || narrowerOrNewer(candidate, best)) best = candidate;
  }

  return best;
}

function narrowerOrNewer(a: PriceOverride, b: PriceOverride): boolean {
  const byLength = literalLength(a.pattern) - literalLength(b.pattern);
  if (byLength !== 0) return byLength > 0;
  if (a.pattern !== b.pattern) return a.pattern < b.pattern;

  return a.effectiveFrom.getTime() > b.effectiveFrom.getTime();
}

/** One row of the table as the console shows it. */
export interface PriceTableRow extends Rates {
  family: string;
  provider: ModelPrice["provider"];
  pattern: string;
  effectiveFrom: string;
  /** Whether this is the family's price now (an older one is history). */
  current: boolean;
}

export function priceTableRows(at: Date = now()): PriceTableRow[] {
  return priceTable.map((price) => {
    const family = priceTable.filter((p) => p.family === price.family);

    return {
      family: price.family,
      provider: price.provider,
      pattern: price.pattern.source,
      effectiveFrom: price.effectiveFrom,
      input: price.input,
      output: price.output,
      cacheRead: price.cacheRead,
      cacheWrite5m: price.cacheWrite5m,
      cacheWrite1h: price.cacheWrite1h,
      current: inForce(family, at) === price,
    };
  });
}

/** Token counts as Flotilla stores them: `input` is uncached input only;
 * cache reads and cache writes are counted apart. */
export interface TokenUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
}

export const noTokens: TokenUsage = {
  input: 0,
  output: 0,
  cacheRead: 0,
  cacheWrite5m: 0,
  cacheWrite1h: 0,
};

/** OpenTelemetry GenAI usage: `input_tokens` INCLUDES the cached tokens
 * (reads and writes), so they are subtracted before pricing plain input. */
export function usageFromOtelGenAi(counts: {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheCreationTokens?: number;
}): TokenUsage {
  const cacheRead = counts.cacheReadTokens ?? 0;
  const cacheWrite = counts.cacheCreationTokens ?? 0;
  const total = counts.inputTokens ?? 0;

  return {
    input: Math.max(0, total - cacheRead - cacheWrite),
    output: counts.outputTokens ?? 0,
    cacheRead,
    cacheWrite5m: cacheWrite,
    cacheWrite1h: 0,
  };
}

/** Anthropic usage (Messages API, Claude Code transcripts and telemetry):
 * `input_tokens` EXCLUDES cached tokens. Cache creation is split by
 * lifetime when the client says so; otherwise it is the 5-minute kind,
 * Anthropic's default. */
export function usageFromAnthropic(usage: {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_creation?: {
    ephemeral_5m_input_tokens?: number;
    ephemeral_1h_input_tokens?: number;
  };
}): TokenUsage {
  const split = usage.cache_creation;
  const total = usage.cache_creation_input_tokens ?? 0;
  const oneHour = split?.ephemeral_1h_input_tokens ?? 0;
  const fiveMinutes = split?.ephemeral_5m_input_tokens ?? total - oneHour;

  return {
    input: usage.input_tokens ?? 0,
    output: usage.output_tokens ?? 0,
    cacheRead: usage.cache_read_input_tokens ?? 0,
    cacheWrite5m: Math.max(0, fiveMinutes),
    cacheWrite1h: oneHour,
  };
}

// Prices are kept as integer micro-dollars per million tokens, so a cost is
// an exact integer count of 1e-12 USD and sums never drift.
function micros(perMillion: number): bigint {
  return BigInt(Math.round(perMillion * 1_000_000));
}

/** The cost in USD of `usage` at `price`, as a decimal string with 12
 * places (exact). */
export function costOf(price: Rates, usage: TokenUsage): string {
  const picoDollars =
    BigInt(usage.input) * micros(price.input) +
    BigInt(usage.output) * micros(price.output) +
    BigInt(usage.cacheRead) * micros(price.cacheRead) +
    BigInt(usage.cacheWrite5m) * micros(price.cacheWrite5m) +
    BigInt(usage.cacheWrite1h) * micros(price.cacheWrite1h);

  return formatScaled(picoDollars, 12);
}

function formatScaled(value: bigint, places: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value)
    .toString()
    .padStart(places + 1, "0");
  const whole = digits.slice(0, digits.length - places);
  const fraction = digits.slice(digits.length - places);

  return `${negative ? "-" : ""}${whole}.${fraction}`;
}

/** Rounds a decimal string to `places` (half up), for the numeric(16, 8)
 * columns. */
export function roundUsd(value: string, places = 8): string {
  const match = /^(-?)(\d+)(?:\.(\d*))?$/.exec(value.trim());
  if (!match) throw new Error(`Not a decimal amount: ${value}`);
  const [, sign, whole, fraction = ""] = match;
  const padded = (fraction + "0".repeat(places + 1)).slice(0, places + 1);
  let scaled = BigInt(whole + padded.slice(0, places));
  if (Number(padded[places]) >= 5) scaled += 1n;

  return (sign && scaled !== 0n ? "-" : "") + formatScaled(scaled, places);
}

export type CostSource = "computed" | "reported" | "unpriced" | "none";

export interface PricedCost {
  costUsd: string | null;
  costSource: CostSource;
  /** The price family that matched, when one did. */
  family: string | null;
}

/** Prices one event at the moment it happened. A cost the client reports
 * wins; otherwise tokens are priced at the project's override in force
 * then, else at the table's price then; a model priced by neither is
 * unpriced (never $0); an event with no tokens and no cost carries no
 * cost at all. */
export function priceEvent(input: {
  model?: string | null;
  usage?: TokenUsage | null;
  reportedCostUsd?: number | string | null;
  /** When the event happened; now by default. */
  at?: Date;
  /** The project's own prices (price-overrides.ts). */
  overrides?: readonly PriceOverride[];
}): PricedCost {
  const at = input.at ?? now();
  const override = overrideFor(input.overrides ?? [], input.model, at);
  const price = override
    ? { family: override.label ?? override.pattern, rates: override }
    : pricedFamily(priceFor(input.model, at));
  if (input.reportedCostUsd !== undefined && input.reportedCostUsd !== null) {
    const reported = input.reportedCostUsd;

    return {
      // toFixed keeps small numbers out of exponent notation (1e-7).
      costUsd: roundUsd(
        typeof reported === "number" ? reported.toFixed(12) : reported,
      ),
      costSource: "reported",
      family: price?.family ?? null,
    };
  }
  const usage = input.usage;
  const hasTokens = !!usage && Object.values(usage).some((count) => count > 0);
  if (!hasTokens) return { costUsd: null, costSource: "none", family: null };
  if (!price) return { costUsd: null, costSource: "unpriced", family: null };

  return {
    costUsd: roundUsd(costOf(price.rates, usage)),
    costSource: "computed",
    family: price.family,
  };
}

function pricedFamily(
  price: ModelPrice | null,
): { family: string; rates: Rates } | null {
  return price ? { family: price.family, rates: price } : null;
}
