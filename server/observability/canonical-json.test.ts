import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "./canonical-json";
import {
  chainLink,
  contentJson,
  eventDigest,
  type ChainedContent,
} from "./chain";

// The text every stored chain was hashed from. Written the plain way (sort
// the entries, recurse): what canonicalJson must keep producing.
function reference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(reference).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

    return `{${entries
      .map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`)
      .join(",")}}`;
  }

  return JSON.stringify(value) ?? "null";
}

// A small deterministic generator, so a failure names a seed that repeats.
function generator(seed: number) {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;

    return state / 2147483648;
  };
  const keys = ["a", "B", "_x", "é", "a b", "10", "2", "\u2028", "Z", "aa"];
  const strings = ["", "plain", 'quo"te', "back\\slash", "line\nfeed", "☃"];
  const value = (depth: number): unknown => {
    const pick = Math.floor(next() * (depth > 3 ? 6 : 9));
    switch (pick) {
      case 0:
        return null;
      case 1:
        return next() < 0.5;
      case 2:
        return [0, -0, 1.5, -3, 1e21, 1e-7, Number.NaN][Math.floor(next() * 7)];
      case 3:
        return strings[Math.floor(next() * strings.length)];
      case 4:
        return undefined;
      case 5:
        return Math.floor(next() * 1000);
      case 6:
      case 7: {
        const object: Record<string, unknown> = {};
        const size = Math.floor(next() * 5);
        for (let i = 0; i < size; i += 1) {
          object[keys[Math.floor(next() * keys.length)]] = value(depth + 1);
        }

        return object;
      }
      default:
        return Array.from({ length: Math.floor(next() * 4) }, () =>
          value(depth + 1),
        );
    }
  };

  return value;
}

// The digest as first defined: sha256 of the canonical JSON of this object.
function referenceDigest(e: ChainedContent): string {
  const text = reference({
    key: e.eventKey,
    source: e.source,
    type: e.type,
    name: e.name,
    status: e.status,
    at: e.occurredAt.toISOString(),
    durationMs: e.durationMs,
    traceId: e.traceId,
    spanId: e.spanId,
    parentSpanId: e.parentSpanId,
    toolName: e.toolName,
    model: e.model,
    provider: e.provider,
    tokens: [
      e.inputTokens,
      e.outputTokens,
      e.cacheReadTokens,
      e.cacheWrite5mTokens,
      e.cacheWrite1hTokens,
    ],
    input: e.input ?? null,
    output: e.output ?? null,
    attributes: e.attributes ?? null,
  });

  return crypto.createHash("sha256").update(text).digest("hex");
}

const event = {
  eventKey: "ev-1",
  source: "native",
  type: "tool_call",
  name: "Bash",
  status: "ok",
  occurredAt: new Date("2026-11-01T10:00:00.123Z"),
  durationMs: 12,
  traceId: null,
  spanId: "s1",
  parentSpanId: null,
  toolName: "Bash",
  model: null,
  provider: null,
  inputTokens: null,
  outputTokens: null,
  cacheReadTokens: null,
  cacheWrite5mTokens: null,
  cacheWrite1hTokens: null,
  input: {
    command: "ls -la",
    zeta: [1, 2.5, "x", null, true, { b: 1, a: 'é\u2028"\\' }],
    Alpha: {},
  },
  output: "done",
  attributes: { b: 1, B: 2, _: -0, ä: 1e21 },
};

describe("canonical JSON", () => {
  it("sorts keys at every depth and leaves out undefined members", () => {
    expect(canonicalJson({ b: [{ d: 1, c: undefined, a: 2 }], a: "x" })).toBe(
      '{"a":"x","b":[{"a":2,"d":1}]}',
    );
    expect(canonicalJson([undefined, () => 1, Number.POSITIVE_INFINITY])).toBe(
      "[null,null,null]",
    );
  });

  it("writes exactly the text of the plain recursive definition", () => {
    for (let seed = 1; seed <= 400; seed += 1) {
      const value = generator(seed)(0);
      expect(canonicalJson(value), `seed ${seed}`).toBe(reference(value));
    }
  });

  it("keeps the digest chains were stored with", () => {
    // Pinned: a different digest would make every stored chain fail to
    // verify.
    expect(eventDigest(event)).toBe(
      "cd7f825c9e2bab12e54c0ae1ab48d0efb2e5932928e2c7096a4bfe28803b92be",
    );
    expect(eventDigest(event, contentJson(event))).toBe(eventDigest(event));
    expect(chainLink(null, eventDigest(event))).toMatch(/^[0-9a-f]{64}$/);
  });

  it("digests any event as first defined, with or without every member", () => {
    for (let seed = 1; seed <= 200; seed += 1) {
      const value = generator(seed);
      const random: ChainedContent = {
        ...event,
        name: seed % 7 === 0 ? 'a "quoted" name' : event.name,
        model: seed % 3 === 0 ? null : "claude-sonnet-4-5",
        inputTokens: seed % 2 === 0 ? seed * 1000 : null,
        input: value(1),
        output: value(2),
        attributes: seed % 5 === 0 ? null : { n: value(1) },
      };
      expect(eventDigest(random), `seed ${seed}`).toBe(referenceDigest(random));
      // A member left undefined is left out of the text, as before.
      const partial = { ...random, provider: undefined, durationMs: undefined };
      expect(
        eventDigest(partial as unknown as ChainedContent),
        `seed ${seed}`,
      ).toBe(referenceDigest(partial as unknown as ChainedContent));
    }
  });

  it("digests an event the same whatever the key order of its content", () => {
    const reordered = {
      ...event,
      input: { Alpha: {}, zeta: event.input.zeta, command: "ls -la" },
    };
    expect(eventDigest(reordered)).toBe(eventDigest(event));
    expect(eventDigest({ ...event, input: { command: "ls" } })).not.toBe(
      eventDigest(event),
    );
  });
});
