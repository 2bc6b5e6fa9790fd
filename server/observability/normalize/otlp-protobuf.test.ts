import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { SeverityNumber } from "@opentelemetry/api-logs";
import {
  JsonLogsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufTraceSerializer,
} from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
} from "@opentelemetry/sdk-logs";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { DomainError } from "@/server/errors";
import { MAX_JSON_DEPTH } from "../limits";
import { fromOtlpLogs } from "./otlp-logs";
import {
  decodeLogsRequest,
  decodeTraceRequest,
  encodeLogsAnswer,
  encodeTraceAnswer,
} from "./otlp-protobuf";
import { fromOtlpTraces } from "./otlp-traces";
import { WireReader, WireWriter } from "./protobuf-wire";

// The protobuf decoder against the OpenTelemetry JavaScript SDK's own
// serializers: the same spans and log records, serialized once as protobuf
// and once as OTLP/JSON, must normalize to the same events.

const resource = resourceFromAttributes({ "service.name": "shop-agent" });

function recordSpans() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource,
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer("shop-agent", "1.2.3");

  const agent = tracer.startSpan("invoke_agent shop-agent", {
    kind: SpanKind.SERVER,
    attributes: {
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.conversation.id": "conv-protobuf",
    },
  });
  const within = trace.setSpan(context.active(), agent);
  tracer
    .startSpan(
      "chat claude-sonnet-4-5",
      {
        kind: SpanKind.CLIENT,
        attributes: {
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": "anthropic",
          "gen_ai.request.model": "claude-sonnet-4-5",
          "gen_ai.usage.input_tokens": 1200,
          "gen_ai.usage.output_tokens": 300,
          "gen_ai.request.temperature": 0.25,
          "gen_ai.request.stop_sequences": ["\n\n", "END"],
          "gen_ai.request.seeds": [-7, 0, 2 ** 40],
          "gen_ai.request.stream": false,
        },
        links: [
          {
            context: agent.spanContext(),
            attributes: { "link.reason": "follows" },
          },
        ],
      },
      within,
    )
    .end();
  const tool = tracer.startSpan(
    "execute_tool Bash",
    {
      attributes: {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "Bash",
        "gen_ai.tool.call.arguments": '{"command":"npm test"}',
      },
    },
    within,
  );
  tool.addEvent("exception", {
    "exception.type": "ExitCode",
    "exception.message": "exit 1",
  });
  tool.setStatus({ code: SpanStatusCode.ERROR, message: "exit 1" });
  tool.end();
  agent.end();

  return exporter.getFinishedSpans();
}

function recordLogs() {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource,
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger("com.anthropic.claude_code", "2.1.0");
  const session = { "session.id": "cc-protobuf" };

  logger.emit({
    eventName: "claude_code.api_request",
    timestamp: new Date("2026-11-30T10:00:00.000Z"),
    severityNumber: SeverityNumber.INFO,
    body: "claude_code.api_request",
    attributes: {
      ...session,
      "event.name": "api_request",
      model: "claude-sonnet-4-5",
      input_tokens: "1200",
      output_tokens: "300",
      cache_read_tokens: "5000",
      cost_usd: "0.0123",
    },
  });
  logger.emit({
    timestamp: new Date("2026-11-30T10:00:01.000Z"),
    // A structured body: a map holding every kind of AnyValue.
    body: {
      text: "tool finished",
      count: -3,
      ratio: 0.5,
      ok: true,
      raw: new Uint8Array([0, 1, 254, 255]),
      list: ["a", 1, { nested: [true] }],
    },
    attributes: {
      ...session,
      "event.name": "tool_result",
      tool_name: "Bash",
      success: "false",
      error: "exit 1",
      tool_parameters: '{"command":"npm test"}',
    },
  });

  return exporter.getFinishedLogRecords();
}

type Json = Record<string, unknown>;

function serializedJson(bytes: Uint8Array | undefined): unknown {
  return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
}

function protobuf(bytes: Uint8Array | undefined): Buffer {
  if (!bytes) throw new Error("the serializer wrote nothing");

  return Buffer.from(bytes);
}

/** A protobuf field: tag, then the value's bytes as given. */
function field(number: number, wireType: number, ...bytes: number[]) {
  return [...varint(number * 8 + wireType), ...bytes];
}

/** A length-delimited field holding `inner`. */
function nested(number: number, inner: number[]): number[] {
  const length: number[] = [];
  let n = inner.length;
  while (n >= 0x80) {
    length.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  length.push(n);

  return [...varint(number * 8 + 2), ...length, ...inner];
}

const traceId = Array.from({ length: 16 }, (_, i) => i + 1);
const spanId = [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11];
// start_time_unix_nano = 2026-11-30T10:00:00Z as fixed64.
const start = (() => {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(Date.UTC(2026, 10, 30, 10)) * 1_000_000n, true);

  return [...new Uint8Array(view.buffer)];
})();

function spanBytes(extra: number[] = [], name = "chat"): number[] {
  return [
    ...nested(1, traceId),
    ...nested(2, spanId),
    ...nested(5, [...Buffer.from(name)]),
    ...field(7, 1, ...start),
    ...extra,
  ];
}

function traceRequest(...spans: number[][]): Buffer {
  const scope = spans.flatMap((s) => nested(2, s));

  return Buffer.from(nested(1, nested(2, scope)));
}

describe("OTLP protobuf export requests", () => {
  it("decodes SDK spans into what the same spans as OTLP/JSON normalize to", () => {
    const spans = recordSpans();
    const fromProtobuf = fromOtlpTraces(
      decodeTraceRequest(
        protobuf(ProtobufTraceSerializer.serializeRequest(spans)),
      ),
    );
    const fromJson = fromOtlpTraces(
      serializedJson(JsonTraceSerializer.serializeRequest(spans)),
    );

    expect(fromProtobuf.rejections).toEqual([]);
    expect(fromProtobuf).toEqual(fromJson);
    const chat = fromProtobuf.items.find(
      (i) => i.event.name === "chat claude-sonnet-4-5",
    )?.event;
    expect(chat).toMatchObject({
      type: "llm_call",
      model: "claude-sonnet-4-5",
      sessionId: "conv-protobuf",
      usage: { input: 1200, output: 300 },
      attributes: {
        "gen_ai.request.temperature": 0.25,
        "gen_ai.request.stop_sequences": ["\n\n", "END"],
        "gen_ai.request.seeds": [-7, 0, 2 ** 40],
        "gen_ai.request.stream": false,
        "otel.span.kind": 3,
        "otel.scope.name": "shop-agent",
        resource: { "service.name": "shop-agent" },
      },
    });
    expect(chat?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(chat?.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(chat?.parentSpanId).toMatch(/^[0-9a-f]{16}$/);
    const tool = fromProtobuf.items.find((i) => i.event.type === "tool_call");
    expect(tool?.event).toMatchObject({
      status: "error",
      output: {
        error: "exit 1",
        exceptions: [{ type: "ExitCode", message: "exit 1" }],
      },
    });
  });

  it("decodes SDK log records, structured bodies included, as OTLP/JSON reads", () => {
    const records = recordLogs();
    const fromProtobuf = fromOtlpLogs(
      decodeLogsRequest(
        protobuf(ProtobufLogsSerializer.serializeRequest(records)),
      ),
    );
    const fromJson = fromOtlpLogs(
      serializedJson(JsonLogsSerializer.serializeRequest(records)),
    );

    // Event keys hash each record as it arrived, so they differ between
    // the encodings; everything that is stored from them does not.
    const withoutKeys = (n: typeof fromJson) =>
      n.items.map(({ index, event: { key: _key, ...event } }) => ({
        index,
        event,
      }));
    expect(fromProtobuf.rejections).toEqual([]);
    expect(withoutKeys(fromProtobuf)).toEqual(withoutKeys(fromJson));
    expect(fromProtobuf.items.map((i) => i.event)).toMatchObject([
      {
        type: "llm_call",
        sessionId: "cc-protobuf",
        model: "claude-sonnet-4-5",
        reportedCostUsd: 0.0123,
        occurredAt: new Date("2026-11-30T10:00:00.000Z"),
      },
      { type: "tool_call", toolName: "Bash", status: "error" },
    ]);

    const body = decodeLogsRequest(
      protobuf(ProtobufLogsSerializer.serializeRequest(records)),
    ) as {
      resourceLogs: {
        scopeLogs: { logRecords: { body: unknown; timeUnixNano: string }[] }[];
      }[];
    };
    const record = body.resourceLogs[0].scopeLogs[0].logRecords[1];
    expect(record.timeUnixNano).toBe(
      String(BigInt(Date.UTC(2026, 10, 30, 10, 0, 1)) * 1_000_000n),
    );
    expect(record.body).toEqual({
      kvlistValue: {
        values: [
          { key: "text", value: { stringValue: "tool finished" } },
          { key: "count", value: { intValue: -3 } },
          { key: "ratio", value: { doubleValue: 0.5 } },
          { key: "ok", value: { boolValue: true } },
          { key: "raw", value: { bytesValue: "AAH+/w==" } },
          {
            key: "list",
            value: {
              arrayValue: {
                values: [
                  { stringValue: "a" },
                  { intValue: 1 },
                  {
                    kvlistValue: {
                      values: [
                        {
                          key: "nested",
                          value: {
                            arrayValue: { values: [{ boolValue: true }] },
                          },
                        },
                      ],
                    },
                  },
                ],
              },
            },
          },
        ],
      },
    });
  });

  it("skips fields it does not know, whatever their wire type", () => {
    const plain = decodeTraceRequest(traceRequest(spanBytes()));
    const unknown = [
      ...field(99, 0, 0x96, 0x01),
      ...field(98, 1, 1, 2, 3, 4, 5, 6, 7, 8),
      ...nested(97, [1, 2, 3]),
      ...field(96, 5, 1, 2, 3, 4),
      // A group holding a field and a nested group.
      ...field(95, 3),
      ...field(1, 0, 5),
      ...field(2, 3),
      ...field(2, 4),
      ...field(95, 4),
      // A known field sent with another wire type than OTLP gives it.
      ...field(6, 5, 1, 0, 0, 0),
    ];

    expect(decodeTraceRequest(traceRequest(spanBytes(unknown)))).toEqual(plain);
    expect(plain).toEqual({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: "0102030405060708090a0b0c0d0e0f10",
                  spanId: "aabbccddeeff0011",
                  name: "chat",
                  startTimeUnixNano: String(
                    BigInt(Date.UTC(2026, 10, 30, 10)) * 1_000_000n,
                  ),
                },
              ],
            },
          ],
        },
      ],
    });
  });

  it("keeps int64 values past 2^53 exact, as decimal strings", () => {
    // intValue = 2^63 - 1 (varint of nine 0xff bytes and 0x7f).
    const big = [...Array(8).fill(0xff), 0x7f];
    const attribute = nested(9, [
      ...nested(1, [...Buffer.from("big")]),
      ...nested(2, field(3, 0, ...big)),
    ]);
    const decoded = fromOtlpTraces(
      decodeTraceRequest(traceRequest(spanBytes(attribute))),
    );

    expect(decoded.items[0].event.attributes?.big).toBe("9223372036854775807");
  });

  it("reads a negative enum, which comes as a ten-byte varint", () => {
    const minusOne = [...Array(9).fill(0xff), 0x01];
    const decoded = decodeTraceRequest(
      traceRequest(spanBytes(field(6, 0, ...minusOne))),
    ) as { resourceSpans: { scopeSpans: { spans: Json[] }[] }[] };

    expect(decoded.resourceSpans[0].scopeSpans[0].spans[0].kind).toBe(-1);
  });

  it("an empty body is an export of nothing", () => {
    expect(decodeTraceRequest(Buffer.alloc(0))).toEqual({ resourceSpans: [] });
    expect(decodeLogsRequest(Buffer.alloc(0))).toEqual({ resourceLogs: [] });
  });

  it.each([
    [
      "cut short",
      traceRequest(spanBytes()).subarray(0, 30),
      "runs past the end",
    ],
    ["with a varint cut short", Buffer.from([0x08, 0x80]), "varint cut short"],
    ["with wire type 7", Buffer.from([0x0f]), "invalid wire type 7"],
    [
      "with field number 0",
      Buffer.from([0x02, 0x00]),
      "invalid field number 0",
    ],
    [
      "with a length past the end",
      Buffer.from([0x0a, 0x05, 0x00]),
      "runs past",
    ],
    [
      "with a group never closed",
      Buffer.from([0x0b, 0x08, 0x01]),
      "not closed",
    ],
    ["as JSON text", Buffer.from('{"resourceSpans":[]}'), "(byte "],
  ])("refuses a request %s with a clear message", (_, bytes, reason) => {
    let thrown: unknown;
    try {
      decodeTraceRequest(bytes);
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(DomainError);
    const error = thrown as DomainError;
    expect(error.code).toBe("invalid_input");
    expect(error.message).toMatch(
      /^Request body is not a valid OTLP protobuf ExportTraceServiceRequest: /,
    );
    expect(error.message).toContain(reason);
  });

  it("names the span a fault lies in", () => {
    // The second span's trace_id claims 16 bytes and holds one.
    const broken = [...nested(2, spanBytes()), ...nested(2, [0x0a, 0x10, 1])];
    const bytes = Buffer.from(nested(1, nested(2, broken)));

    expect(() => decodeTraceRequest(bytes)).toThrow(
      /in resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[1\]/,
    );
  });

  it.each(["array", "kvlist"] as const)(
    "refuses only the span whose %s values nest too deep, without deep recursion",
    (kind) => {
      // 100,000 nested values: far past any call stack a recursive decoder
      // could survive, in about 1 MB.
      const value = deepValue(kind, 100_000);
      const deep = nested(9, [
        ...nested(1, [...Buffer.from("deep")]),
        ...nested(2, value),
      ]);
      const request = traceRequest(
        spanBytes(deep, "deep"),
        spanBytes([], "fine"),
      );

      const normalized = fromOtlpTraces(decodeTraceRequest(request));
      expect(normalized.items.map((i) => i.event.name)).toEqual(["fine"]);
      expect(normalized.rejections).toEqual([
        {
          index: 0,
          reason: `attribute values are nested deeper than ${MAX_JSON_DEPTH} levels`,
        },
      ]);
    },
  );
});

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);

  return out;
}

/** An AnyValue of `levels` nested arrays (AnyValue.array_value = 5 {
 * values = 1 }) or key-value lists (AnyValue.kvlist_value = 6 { values = 1
 * KeyValue { key = 1, value = 2 } }) around `true`. Each level only adds
 * a prefix, so the prefixes are sized from the inside out and written
 * once. */
function deepValue(kind: "array" | "kvlist", levels: number): number[] {
  const core = field(2, 0, 1);
  const prefixes: number[][] = [];
  let size = core.length;
  // Wraps everything written so far in a length-delimited field.
  const wrap = (tag: number) => {
    const prefix = [tag, ...varint(size)];
    size += prefix.length;

    return prefix;
  };
  for (let i = 0; i < levels; i++) {
    const level: number[] = [];
    if (kind === "kvlist") {
      const value = wrap(0x12);
      const key = [0x0a, 1, 0x6b];
      size += key.length;
      level.unshift(...key, ...value);
    }
    level.unshift(...wrap(0x0a));
    level.unshift(...wrap(kind === "array" ? 0x2a : 0x32));
    prefixes.push(level);
  }

  return [...prefixes.reverse().flat(), ...core];
}

describe("OTLP protobuf export answers", () => {
  it("reads back in the SDK as a partial success with the count and message", () => {
    const spans = ProtobufTraceSerializer.deserializeResponse(
      encodeTraceAnswer({
        partialSuccess: { rejectedSpans: 2, errorMessage: "span 1: bad" },
      }),
    );
    const logs = ProtobufLogsSerializer.deserializeResponse(
      encodeLogsAnswer({
        partialSuccess: { rejectedLogRecords: 300, errorMessage: "record 0" },
      }),
    );

    expect(spans).toEqual({
      partialSuccess: { rejectedSpans: 2, errorMessage: "span 1: bad" },
    });
    expect(logs).toEqual({
      partialSuccess: { rejectedLogRecords: 300, errorMessage: "record 0" },
    });
  });

  it("is the empty message when everything was accepted", () => {
    expect(encodeTraceAnswer({})).toEqual(new Uint8Array(0));
    expect(encodeLogsAnswer({})).toEqual(new Uint8Array(0));
    expect(
      ProtobufTraceSerializer.deserializeResponse(new Uint8Array(0)),
    ).toEqual({});
  });
});

describe("protobuf strings", () => {
  it("keeps a leading U+FEFF, as JSON.parse keeps it", () => {
    const bytes = new WireWriter().string(1, "\ufeffbom").finish();
    const reader = new WireReader(bytes);
    expect(reader.next()).toMatchObject({ number: 1 });
    expect(reader.string()).toBe("\ufeffbom");
  });
});
