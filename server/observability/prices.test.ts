import { describe, expect, it } from "vitest";
import {
  costOf,
  dayStart,
  globToRegExp,
  overrideFor,
  priceEvent,
  priceFor,
  priceTable,
  priceTableRows,
  roundUsd,
  usageFromAnthropic,
  usageFromOtelGenAi,
  type PriceOverride,
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
    ["gemini-3-pro-preview", "gemini-3-pro"],
    ["claude-3-5-sonnet-20241022", "claude-sonnet-3-5"],
    ["claude-3-opus-20240229", "claude-opus-3"],
    ["gpt-5.1-codex-mini", "gpt-5-codex-mini"],
    ["gpt-5-codex", "gpt-5"],
    ["gpt-5.1-2025-11-13", "gpt-5"],
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

describe("effective dates", () => {
  const at = (iso: string) => new Date(iso);

  it("prices o3 at launch and after its June 2025 price cut", () => {
    // $10 / $40 from 2025-04-16, $2 / $8 from 2025-06-10.
    const before = priceFor("o3-2025-04-16", at("2025-06-09T23:59:59Z"));
    const after = priceFor("o3-2025-04-16", at("2025-06-10T00:00:00Z"));
    expect([before?.input, before?.output, before?.cacheRead]).toEqual([
      10, 40, 2.5,
    ]);
    expect([after?.input, after?.output, after?.cacheRead]).toEqual([
      2, 8, 0.5,
    ]);
    expect(after?.family).toBe("o3");
  });

  it("prices each event at the price of its own time", () => {
    // 1000 input + 1000 output: $0.05 before the cut, $0.01 after.
    const usage = usageFromOtelGenAi({ inputTokens: 1000, outputTokens: 1000 });
    const cost = (iso: string) =>
      priceEvent({ model: "o3", usage, at: at(iso) }).costUsd;
    expect(cost("2025-05-01T12:00:00Z")).toBe("0.05000000");
    expect(cost("2025-07-01T12:00:00Z")).toBe("0.01000000");
  });

  it("gives an event older than its family's first price that price", () => {
    const early = priceFor("o3", at("2024-01-01T00:00:00Z"));
    expect(early?.effectiveFrom).toBe("2025-04-16");
    expect(priceFor("claude-opus-4-5", at("2020-01-01T00:00:00Z"))?.input).toBe(
      5,
    );
  });

  it("keeps each family's prices on one pattern, one per date", () => {
    const families = new Map<string, typeof priceTable>();
    for (const price of priceTable) {
      expect(price.effectiveFrom).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(Number.isNaN(dayStart(price.effectiveFrom).getTime())).toBe(false);
      families.set(price.family, [
        ...(families.get(price.family) ?? []),
        price,
      ]);
    }
    for (const prices of families.values()) {
      expect(new Set(prices.map((p) => p.pattern.source)).size).toBe(1);
      expect(new Set(prices.map((p) => p.provider)).size).toBe(1);
      expect(new Set(prices.map((p) => p.effectiveFrom)).size).toBe(
        prices.length,
      );
    }
  });

  it("marks the price in force now in the table the console shows", () => {
    const rows = priceTableRows(at("2026-12-01T00:00:00Z"));
    const o3 = rows.filter((row) => row.family === "o3");
    expect(o3.map((row) => [row.effectiveFrom, row.current])).toEqual([
      ["2025-04-16", false],
      ["2025-06-10", true],
    ]);
    // Every other family has exactly one price, the current one.
    expect(rows.filter((row) => !row.current)).toHaveLength(1);
  });
});

describe("project price overrides", () => {
  function override(
    pattern: string,
    effectiveFrom: string,
    input: number,
    output: number,
  ): PriceOverride {
    return {
      id: `${pattern}@${effectiveFrom}`,
      pattern,
      label: null,
      input,
      output,
      cacheRead: input / 10,
      cacheWrite5m: input,
      cacheWrite1h: input,
      effectiveFrom: new Date(`${effectiveFrom}T00:00:00Z`),
    };
  }
  const usage = usageFromAnthropic({
    input_tokens: 1000,
    output_tokens: 100,
    cache_read_input_tokens: 10_000,
  });
  const july = new Date("2026-07-01T12:00:00Z");

  it.each([
    ["llama-*", "llama-3.1-70b", true],
    ["llama-*", "my-llama-3", false],
    ["*llama*", "my-llama-3", true],
    ["LLAMA-3.1-*", "llama-3.1-8b", true],
    ["gpt-4.1", "gpt-401", false],
    ["gpt-4.1", "gpt-4.1-mini", false],
    ["together/*", "together/mixtral-8x7b", true],
  ])("glob %s matching %s: %s", (glob, model, matches) => {
    expect(globToRegExp(glob).test(model.toLowerCase())).toBe(matches);
  });

  it("wins over the table", () => {
    // 1000*1 + 100*2 + 10000*0.1 = 2200 micro-dollars, not Sonnet's price.
    const cost = priceEvent({
      model: "claude-sonnet-4-5-20250929",
      usage,
      at: july,
      overrides: [override("claude-sonnet-4*", "2026-01-01", 1, 2)],
    });
    expect(cost).toEqual({
      costUsd: "0.00220000",
      costSource: "computed",
      family: "claude-sonnet-4*",
    });
  });

  it("does not reach back before its effective date", () => {
    const overrides = [override("llama-*", "2026-08-01", 1, 2)];
    expect(
      priceEvent({ model: "llama-3.1-70b", usage, at: july, overrides })
        .costSource,
    ).toBe("unpriced");
    // A table model before the override keeps the table's price:
    // 1000*3 + 100*15 + 10000*0.3 = 7500 micro-dollars.
    const sonnet = priceEvent({
      model: "claude-sonnet-4-5",
      usage,
      at: july,
      overrides: [override("claude-*", "2026-08-01", 1, 2)],
    });
    expect(sonnet.costUsd).toBe("0.00750000");
    expect(
      priceEvent({
        model: "llama-3.1-70b",
        usage,
        at: new Date("2026-08-01T00:00:00Z"),
        overrides,
      }).costUsd,
    ).toBe("0.00220000");
  });

  it("picks the narrowest pattern, then the latest price in force", () => {
    const overrides = [
      override("*", "2026-01-01", 9, 9),
      override("llama-3.1-*", "2026-01-01", 1, 1),
      override("llama-3.1-*", "2026-06-01", 2, 2),
      override("llama-3.1-*", "2026-09-01", 3, 3),
      override("llama-*", "2026-06-15", 5, 5),
    ];
    const picked = (model: string) =>
      overrideFor(overrides, model, july)?.id ?? null;
    expect(picked("llama-3.1-70b")).toBe("llama-3.1-*@2026-06-01");
    expect(picked("llama-3.3-70b")).toBe("llama-*@2026-06-15");
    expect(picked("qwen-3")).toBe("*@2026-01-01");
    expect(overrideFor(overrides, null, july)).toBeNull();
  });

  it("leaves reported costs alone", () => {
    const cost = priceEvent({
      model: "llama-3.1-70b",
      usage,
      at: july,
      reportedCostUsd: "0.5",
      overrides: [override("llama-*", "2026-01-01", 1, 2)],
    });
    expect(cost.costSource).toBe("reported");
    expect(cost.costUsd).toBe("0.50000000");
  });

  it("keeps an event at the highest override rates inside the cost column", () => {
    const rate = 9_999.999999;
    const atCaps = {
      input: MAX_TOKENS,
      output: MAX_TOKENS,
      cacheRead: MAX_TOKENS,
      cacheWrite5m: MAX_TOKENS,
      cacheWrite1h: MAX_TOKENS,
    };
    const rates = {
      input: rate,
      output: rate,
      cacheRead: rate,
      cacheWrite5m: rate,
      cacheWrite1h: rate,
    };
    expect(Number(costOf(rates, atCaps))).toBeLessThan(1e8);
  });
});

describe("token conventions", () => {
  it("prices one request the same from Anthropic and OTel usage", () => {
    // Anthropic: input excludes the 30000 read and 2000 written; OTel's
    // input_tokens is the 32500 total.
    const anthropicUsage = usageFromAnthropic({
      input_tokens: 500,
      output_tokens: 700,
      cache_read_input_tokens: 30_000,
      cache_creation_input_tokens: 2_000,
    });
    const otelUsage = usageFromOtelGenAi({
      inputTokens: 32_500,
      outputTokens: 700,
      cacheReadTokens: 30_000,
      cacheCreationTokens: 2_000,
    });
    expect(otelUsage).toEqual(anthropicUsage);
    // Haiku 4.5: 500*1 + 700*5 + 30000*0.1 + 2000*1.25
    // = 500 + 3500 + 3000 + 2500 = 9500 micro-dollars.
    const at = new Date("2026-12-01T00:00:00Z");
    for (const usage of [anthropicUsage, otelUsage]) {
      expect(priceEvent({ model: "claude-haiku-4-5", usage, at }).costUsd).toBe(
        "0.00950000",
      );
    }
  });

  it("never prices negative input when cached counts exceed the total", () => {
    const usage = usageFromOtelGenAi({
      inputTokens: 100,
      cacheReadTokens: 150,
    });
    expect(usage.input).toBe(0);
  });
});
