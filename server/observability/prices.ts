// The price table: USD per million tokens, by model family. A model id
// matches the first entry whose pattern it fits, so dated ids
// (claude-sonnet-4-5-20250929) and provider prefixes (anthropic/...) land on
// their family. Order matters: narrower families come before broader ones.
//
// Known shortcoming: long-prompt tiers (Gemini 2.5 Pro over 200k tokens) and
// batch discounts are not modelled; those requests are priced at the
// standard tier.

export interface ModelPrice {
  /** Family name shown in the console and used to group spend. */
  family: string;
  provider: "anthropic" | "openai" | "google";
  pattern: RegExp;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
}

/** Prices checked against the providers' pricing pages in December 2026. */
export const PRICES_CHECKED_ON = "2026-12-01";

type Rates = Pick<
  ModelPrice,
  "input" | "output" | "cacheRead" | "cacheWrite5m" | "cacheWrite1h"
>;

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
  rates: Rates,
): ModelPrice {
  return { family, provider, pattern, ...rates };
}

export const priceTable: ModelPrice[] = [
  // Anthropic. Opus from 4.5 on costs a third of Opus 4 / 4.1.
  entry(
    "claude-opus-4-5+",
    "anthropic",
    /claude-opus-4[-.][5-9]/,
    anthropic(5, 25),
  ),
  entry(
    "claude-opus-4-1",
    "anthropic",
    /claude-opus-4[-.]1/,
    anthropic(15, 75),
  ),
  entry("claude-opus-4", "anthropic", /claude-opus-4/, anthropic(15, 75)),
  entry(
    "claude-sonnet-4",
    "anthropic",
    /claude-sonnet-4|claude-4-sonnet/,
    anthropic(3, 15),
  ),
  entry(
    "claude-sonnet-3-7",
    "anthropic",
    /claude-3[-.]7-sonnet/,
    anthropic(3, 15),
  ),
  entry(
    "claude-haiku-4-5",
    "anthropic",
    /claude-haiku-4[-.]5/,
    anthropic(1, 5),
  ),
  entry(
    "claude-haiku-3-5",
    "anthropic",
    /claude-3[-.]5-haiku|claude-haiku-3[-.]5/,
    anthropic(0.8, 4),
  ),
  entry("claude-haiku-3", "anthropic", /claude-3-haiku/, {
    input: 0.25,
    output: 1.25,
    cacheRead: 0.03,
    cacheWrite5m: 0.3,
    cacheWrite1h: 0.5,
  }),

  // OpenAI. Cached input is the "cache read" rate.
  entry("gpt-5-pro", "openai", /gpt-5(\.1)?-pro/, writeAtInput(15, 15, 120)),
  entry(
    "gpt-5-nano",
    "openai",
    /gpt-5(\.1)?-nano/,
    writeAtInput(0.05, 0.005, 0.4),
  ),
  entry(
    "gpt-5-mini",
    "openai",
    /gpt-5(\.1)?-mini/,
    writeAtInput(0.25, 0.025, 2),
  ),
  entry(
    "gpt-5",
    "openai",
    /gpt-5(\.1)?(?![.\d])/,
    writeAtInput(1.25, 0.125, 10),
  ),
  entry(
    "gpt-4.1-nano",
    "openai",
    /gpt-4\.1-nano/,
    writeAtInput(0.1, 0.025, 0.4),
  ),
  entry("gpt-4.1-mini", "openai", /gpt-4\.1-mini/, writeAtInput(0.4, 0.1, 1.6)),
  entry("gpt-4.1", "openai", /gpt-4\.1/, writeAtInput(2, 0.5, 8)),
  entry("gpt-4o-mini", "openai", /gpt-4o-mini/, writeAtInput(0.15, 0.075, 0.6)),
  entry("gpt-4o", "openai", /gpt-4o/, writeAtInput(2.5, 1.25, 10)),
  entry("o4-mini", "openai", /(^|\/)o4-mini/, writeAtInput(1.1, 0.275, 4.4)),
  entry("o3-pro", "openai", /(^|\/)o3-pro/, writeAtInput(20, 20, 80)),
  entry("o3-mini", "openai", /(^|\/)o3-mini/, writeAtInput(1.1, 0.55, 4.4)),
  entry(
    "o3",
    "openai",
    /(^|\/)o3(?![-\w])|(^|\/)o3-\d{4}/,
    writeAtInput(2, 0.5, 8),
  ),
  entry("o1-mini", "openai", /(^|\/)o1-mini/, writeAtInput(1.1, 0.55, 4.4)),
  entry(
    "o1",
    "openai",
    /(^|\/)o1(?![-\w])|(^|\/)o1-\d{4}/,
    writeAtInput(15, 7.5, 60),
  ),

  // Google, at the standard (up to 200k token prompt) tier.
  entry(
    "gemini-2.5-flash-lite",
    "google",
    /gemini-2\.5-flash-lite/,
    writeAtInput(0.1, 0.01, 0.4),
  ),
  entry(
    "gemini-2.5-flash",
    "google",
    /gemini-2\.5-flash/,
    writeAtInput(0.3, 0.03, 2.5),
  ),
  entry(
    "gemini-2.5-pro",
    "google",
    /gemini-2\.5-pro/,
    writeAtInput(1.25, 0.125, 10),
  ),
  entry(
    "gemini-2.0-flash-lite",
    "google",
    /gemini-2\.0-flash-lite/,
    writeAtInput(0.075, 0.075, 0.3),
  ),
  entry(
    "gemini-2.0-flash",
    "google",
    /gemini-2\.0-flash/,
    writeAtInput(0.1, 0.025, 0.4),
  ),
];

/** The price entry for a model id, or null when the model is not in the
 * table (its events are stored as unpriced). */
export function priceFor(model: string | null | undefined): ModelPrice | null {
  if (!model) return null;
  const id = model.trim().toLowerCase();

  return priceTable.find((price) => price.pattern.test(id)) ?? null;
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
export function costOf(price: ModelPrice, usage: TokenUsage): string {
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

/** Prices one event. A cost the client reports wins; otherwise tokens are
 * priced from the table; a model missing from the table is unpriced (never
 * $0); an event with no tokens and no cost carries no cost at all. */
export function priceEvent(input: {
  model?: string | null;
  usage?: TokenUsage | null;
  reportedCostUsd?: number | string | null;
}): PricedCost {
  const price = priceFor(input.model);
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
    costUsd: roundUsd(costOf(price, usage)),
    costSource: "computed",
    family: price.family,
  };
}
