import { describe, expect, it } from "vitest";
import {
  costOf,
  priceEvent,
  priceFor,
  priceTable,
  roundUsd,
  usageFromAnthropic,
  usageFromOtelGenAi,
} from "./prices";
import { MAX_REPORTED_COST_USD, MAX_TOKENS } from "./limits";

describe("price table matching", () => {
  it.each([
    ["claude-sonnet-4-5-20250929", "claude-sonnet-4"],
    ["claude-sonnet-4-5", "claude-sonnet-4"],
    ["anthropic.claude-sonnet-4-20250514-v1:0", "claude-sonnet-4"],
    ["claude-opus-4-1-20250805", "claude-opus-4-1"],
    ["claude-opus-4-20250514", "claude-opus-4"],
    ["claude-opus-4-5-20251101", "claude-opus-4-5+"],
    ["claude-opus-4-6", "claude-opus-4-5+"],
    ["claude-haiku-4-5-20251001", "claude-haiku-4-5"],
    ["claude-3-5-haiku-20241022", "claude-haiku-3-5"],
    ["gpt-4o-mini", "gpt-4o-mini"],
    ["gpt-4o-2024-08-06", "gpt-4o"],
    ["gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"],
    ["gpt-5", "gpt-5"],
    ["gpt-5-2025-08-07", "gpt-5"],
    ["gpt-5-mini", "gpt-5-mini"],
    ["gpt-5-nano-2025-08-07", "gpt-5-nano"],
    ["o3", "o3"],
    ["o3-2025-04-16", "o3"],
    ["o3-mini", "o3-mini"],
    ["o4-mini-2025-04-16", "o4-mini"],
    ["gemini-2.5-pro", "gemini-2.5-pro"],
    ["gemini-2.5-flash-lite", "gemini-2.5-flash-lite"],
    ["models/gemini-2.5-flash", "gemini-2.5-flash"],
    ["gemini-2.0-flash-001", "gemini-2.0-flash"],
  ])("%s is priced as %s", (model, family) => {
    expect(priceFor(model)?.family).toBe(family);
  });

  it.each(["llama-3.1-70b", "mistral-large", "gpt-5.2", "", "claude-2.1"])(
    "%s is not in the table",
    (model) => {
      expect(priceFor(model)).toBeNull();
    },
  );
});

describe("cost arithmetic", () => {
  it("prices Anthropic usage, where input excludes cached tokens", () => {
    // Sonnet 4.5: $3 in, $15 out, $0.30 cache read, $3.75 5m write.
    // 5*3 + 412*15 + 18234*0.30 + 2310*3.75 = 15 + 6180 + 5470.2 + 8662.5
    // = 20327.7 micro-dollars.
    const usage = usageFromAnthropic({
      input_tokens: 5,
      output_tokens: 412,
      cache_read_input_tokens: 18234,
      cache_creation_input_tokens: 2310,
      cache_creation: {
        ephemeral_5m_input_tokens: 2310,
        ephemeral_1h_input_tokens: 0,
      },
    });
    expect(usage).toEqual({
      input: 5,
      output: 412,
      cacheRead: 18234,
      cacheWrite5m: 2310,
      cacheWrite1h: 0,
    });
    const price = priceFor("claude-sonnet-4-5-20250929");
    expect(price).not.toBeNull();
    if (!price) return;
    expect(costOf(price, usage)).toBe("0.020327700000");
  });

  it("prices 1-hour cache writes at twice the input rate", () => {
    // Haiku 4.5: 1h write $2; 1000*2 + 500*1.25 (5m) = 2625 micro-dollars.
    const usage = usageFromAnthropic({
      cache_creation_input_tokens: 1500,
      cache_creation: { ephemeral_1h_input_tokens: 1000 },
    });
    expect(usage.cacheWrite1h).toBe(1000);
    expect(usage.cacheWrite5m).toBe(500);
    const cost = priceEvent({ model: "claude-haiku-4-5", usage });
    expect(cost).toEqual({
      costUsd: "0.00262500",
      costSource: "computed",
      family: "claude-haiku-4-5",
    });
  });

  it("subtracts cached tokens from OpenTelemetry GenAI input tokens", () => {
    // 24310 input of which 20100 read and 4100 written: 110 uncached.
    // 110*3 + 812*15 + 20100*0.30 + 4100*3.75
    // = 330 + 12180 + 6030 + 15375 = 33915 micro-dollars.
    const usage = usageFromOtelGenAi({
      inputTokens: 24310,
      outputTokens: 812,
      cacheReadTokens: 20100,
      cacheCreationTokens: 4100,
    });
    expect(usage.input).toBe(110);
    const cost = priceEvent({ model: "claude-sonnet-4-5-20250929", usage });
    expect(cost.costUsd).toBe("0.03391500");
  });

  it("prices OpenAI cached input at the cached rate", () => {
    // gpt-4.1: 10000 input of which 8000 cached: 2000*2 + 8000*0.5 +
    // 1000*8 = 4000 + 4000 + 8000 = 16000 micro-dollars.
    const usage = usageFromOtelGenAi({
      inputTokens: 10000,
      outputTokens: 1000,
      cacheReadTokens: 8000,
    });
    expect(priceEvent({ model: "gpt-4.1", usage }).costUsd).toBe("0.01600000");
  });

  it("keeps a reported cost and marks it reported", () => {
    const cost = priceEvent({
      model: "claude-opus-4-1-20250805",
      usage: usageFromAnthropic({ input_tokens: 12, output_tokens: 1180 }),
      reportedCostUsd: 0.41235,
    });
    expect(cost.costUsd).toBe("0.41235000");
    expect(cost.costSource).toBe("reported");
    expect(priceEvent({ reportedCostUsd: 1e-7 }).costUsd).toBe("0.00000010");
  });

  it("marks a model missing from the table unpriced, never $0", () => {
    const cost = priceEvent({
      model: "llama-3.1-70b",
      usage: usageFromAnthropic({ input_tokens: 100, output_tokens: 10 }),
    });
    expect(cost).toEqual({
      costUsd: null,
      costSource: "unpriced",
      family: null,
    });
  });

  it("gives events without tokens no cost at all", () => {
    expect(priceEvent({ model: "gpt-4o" }).costSource).toBe("none");
  });

  it("rounds to 8 places half up", () => {
    expect(roundUsd("0.000000004999")).toBe("0.00000000");
    expect(roundUsd("0.000000005")).toBe("0.00000001");
    expect(roundUsd("12.3456789049")).toBe("12.34567890");
    expect(roundUsd("7")).toBe("7.00000000");
  });
});

describe("cost column bounds", () => {
  // events.cost_usd is numeric(16, 8): below $100,000,000. The token caps
  // must keep every model's dearest possible event well inside it, so a
  // price added to the table cannot bring back the overflow.
  it.each(priceTable.map((price) => [price.family, price] as const))(
    "%s at the token caps fits the cost column",
    (_, price) => {
      const atCaps = {
        input: MAX_TOKENS,
        output: MAX_TOKENS,
        cacheRead: MAX_TOKENS,
        cacheWrite5m: MAX_TOKENS,
        cacheWrite1h: MAX_TOKENS,
      };
      expect(Number(costOf(price, atCaps))).toBeLessThan(1e7);
    },
  );

  it("bounds reported costs below the column too", () => {
    expect(MAX_REPORTED_COST_USD).toBeLessThan(1e8);
  });
});
