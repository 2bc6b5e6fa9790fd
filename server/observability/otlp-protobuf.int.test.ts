import zlib from "node:zlib";
import type { HrTime } from "@opentelemetry/api";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPExporterBase } from "@opentelemetry/otlp-exporter-base";
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from "@opentelemetry/otlp-exporter-base/node-http";
import {
  LogsExporterMetricsHelper,
  ProtobufLogsSerializer,
  ProtobufTraceSerializer,
  TraceExporterMetricsHelper,
} from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type ReadableLogRecord,
} from "@opentelemetry/sdk-logs";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLoopbackServer, type LoopbackServer } from "@/client/testing";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { agentSessions, events } from "@/db/schema";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject, readCase } from "./testing";

// OTLP/HTTP protobuf, sent by the OpenTelemetry JavaScript SDK's own
// exporter machinery (the protobuf serializers with the node HTTP
// transport, gzip on) to the routes on a loopback port. The shared OTLP
// cases are rebuilt as SDK spans and log records, so the protobuf on the
// wire is the SDK's; the same cases sent as OTLP/JSON must store the same
// events.

type Json = Record<string, unknown>;

interface OtlpCase {
  resource?: { attributes?: Json[] };
  scope?: { name?: string; version?: string };
  items: Json[];
}

/** The first resource and scope of a case, with its spans or records. */
function readOtlpCase(file: string, signal: "spans" | "logs"): OtlpCase {
  const body = JSON.parse(readCase(file)) as Json;
  const [group] = body[
    signal === "spans" ? "resourceSpans" : "resourceLogs"
  ] as Json[];
  const [scoped] = group[
    signal === "spans" ? "scopeSpans" : "scopeLogs"
  ] as Json[];

  return {
    resource: group.resource as OtlpCase["resource"],
    scope: scoped.scope as OtlpCase["scope"],
    items: scoped[signal === "spans" ? "spans" : "logRecords"] as Json[],
  };
}

/** An OTLP/JSON AnyValue as the JavaScript value an SDK user would set. */
function plain(value: Json | undefined): unknown {
  if (!value) return undefined;
  if ("stringValue" in value) return value.stringValue;
  if ("boolValue" in value) return value.boolValue;
  if ("intValue" in value) return Number(value.intValue);
  if ("doubleValue" in value) return Number(value.doubleValue);
  if ("arrayValue" in value) {
    return ((value.arrayValue as { values?: Json[] }).values ?? []).map(plain);
  }

  return undefined;
}

function attributes(list: unknown): Record<string, never> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of (list ?? []) as { key: string; value: Json }[]) {
    out[key] = plain(value);
  }

  return out as Record<string, never>;
}

function hrTime(nanos: unknown): HrTime {
  const n = BigInt(String(nanos ?? 0));

  return [Number(n / 1_000_000_000n), Number(n % 1_000_000_000n)];
}

/** The spans of a case as the SDK hands them to an exporter. */
function casedSpans(file: string): ReadableSpan[] {
  const { resource, scope, items } = readOtlpCase(file, "spans");
  const sdkResource = resourceFromAttributes(attributes(resource?.attributes));

  return items.map((span) => {
    const context = {
      traceId: String(span.traceId),
      spanId: String(span.spanId),
      traceFlags: 1,
    };
    const status = (span.status ?? {}) as { code?: number; message?: string };

    return {
      name: String(span.name),
      // The SDK counts kinds from INTERNAL = 0; OTLP from UNSPECIFIED = 0.
      kind: Number(span.kind ?? 1) - 1,
      spanContext: () => context,
      parentSpanContext: span.parentSpanId
        ? { ...context, spanId: String(span.parentSpanId) }
        : undefined,
      startTime: hrTime(span.startTimeUnixNano),
      endTime: hrTime(span.endTimeUnixNano),
      duration: [0, 0],
      status: { code: status.code ?? 0, message: status.message },
      attributes: attributes(span.attributes),
      links: [],
      events: ((span.events ?? []) as Json[]).map((event) => ({
        name: String(event.name),
        time: hrTime(event.timeUnixNano),
        attributes: attributes(event.attributes),
      })),
      ended: true,
      resource: sdkResource,
      instrumentationScope: {
        name: scope?.name ?? "",
        version: scope?.version,
      },
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    } satisfies ReadableSpan;
  });
}

/** The log records of a case, emitted through the SDK's logger. */
async function casedLogRecords(file: string): Promise<ReadableLogRecord[]> {
  const { resource, scope, items } = readOtlpCase(file, "logs");
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes(attributes(resource?.attributes)),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger(scope?.name ?? "", scope?.version);
  for (const record of items) {
    logger.emit({
      timestamp: hrTime(record.timeUnixNano),
      observedTimestamp: record.observedTimeUnixNano
        ? hrTime(record.observedTimeUnixNano)
        : undefined,
      body: plain(record.body as Json) as string,
      attributes: attributes(record.attributes),
    });
  }
  await provider.forceFlush();

  return exporter.getFinishedLogRecords();
}

/** An exporter as @opentelemetry/exporter-*-otlp-proto builds one: the
 * protobuf serializer on the node HTTP transport. */
function protobufExporter<T>(
  url: string,
  token: string,
  signal: "traces" | "logs",
): OTLPExporterBase<T> {
  const options = convertLegacyHttpOptions(
    {
      url: `${url}/api/otlp/v1/${signal}`,
      headers: { Authorization: `Bearer ${token}` },
      compression: "gzip" as never,
      timeoutMillis: 10_000,
    },
    signal.toUpperCase(),
    `v1/${signal}`,
    { "Content-Type": "application/x-protobuf" },
  );
  const delegate =
    signal === "traces"
      ? createOtlpHttpExportDelegate(
          options,
          ProtobufTraceSerializer,
          "otlp_http_span_exporter",
          TraceExporterMetricsHelper,
          undefined,
        )
      : createOtlpHttpExportDelegate(
          options,
          ProtobufLogsSerializer,
          "otlp_http_log_exporter",
          LogsExporterMetricsHelper,
          undefined,
        );

  return new OTLPExporterBase(delegate as never);
}

function exportWith<T>(
  exporter: { export: (items: T, done: (r: ExportResult) => void) => void },
  items: T,
): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(items, resolve));
}

/** google.rpc.Status.message (field 2) of a protobuf failure body. */
function statusMessage(body: Uint8Array): string {
  let pos = 0;
  while (pos < body.length) {
    const tag = body[pos++];
    let length = 0;
    let shift = 0;
    for (;;) {
      const byte = body[pos++];
      length += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (byte < 0x80) break;
    }
    if (tag === 0x12) {
      return Buffer.from(body.subarray(pos, pos + length)).toString("utf8");
    }
    pos += length;
  }

  return "";
}

describe.each(testKinds)("OTLP protobuf ingest on %s", (kind) => {
  let handle: DatabaseHandle;
  let server: LoopbackServer;
  // Each project receives the cases in one encoding.
  const projects: Record<"protobuf" | "json", { id: string; token: string }> = {
    protobuf: { id: "", token: "" },
    json: { id: "", token: "" },
  };

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    for (const encoding of ["protobuf", "json"] as const) {
      const project = await makeProject(handle.db, `otlp-${encoding}-${kind}`);
      const agent = await makeAgent(handle.db, project.id, encoding);
      projects[encoding] = { id: project.id, token: agent.secret };
    }
    server = await startLoopbackServer();
  });

  afterAll(async () => {
    await server?.close();
    useDatabase(null);
    await handle?.close();
  });

  async function stored(projectId: string) {
    const rows = await handle.db
      .select({
        eventKey: events.eventKey,
        session: agentSessions.externalId,
        type: events.type,
        name: events.name,
        status: events.status,
        occurredAt: events.occurredAt,
        durationMs: events.durationMs,
        traceId: events.traceId,
        spanId: events.spanId,
        parentSpanId: events.parentSpanId,
        toolName: events.toolName,
        model: events.model,
        provider: events.provider,
        inputTokens: events.inputTokens,
        outputTokens: events.outputTokens,
        cacheReadTokens: events.cacheReadTokens,
        cacheWrite5mTokens: events.cacheWrite5mTokens,
        costUsd: events.costUsd,
        costSource: events.costSource,
        input: events.input,
        output: events.output,
        attributes: events.attributes,
      })
      .from(events)
      .innerJoin(agentSessions, eq(agentSessions.id, events.sessionId))
      .where(eq(events.projectId, projectId))
      .orderBy(asc(events.occurredAt), asc(events.name));

    return rows;
  }

  function post(
    signal: "traces" | "logs",
    body: Uint8Array | string,
    headers: Record<string, string>,
    token = projects.protobuf.token,
  ) {
    return fetch(`${server.url}/api/otlp/v1/${signal}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, ...headers },
      body: typeof body === "string" ? body : Buffer.from(body),
    });
  }

  it("stores the SDK's gzipped protobuf spans as the same events as OTLP/JSON", async () => {
    const spans = casedSpans("otlp/genai-trace.json");
    const exporter = protobufExporter<ReadableSpan[]>(
      server.url,
      projects.protobuf.token,
      "traces",
    );
    expect((await exportWith(exporter, spans)).code).toBe(
      ExportResultCode.SUCCESS,
    );
    const json = await post(
      "traces",
      readCase("otlp/genai-trace.json"),
      {
        "content-type": "application/json",
      },
      projects.json.token,
    );
    expect(json.status).toBe(200);

    const fromProtobuf = await stored(projects.protobuf.id);
    expect(fromProtobuf).toEqual(await stored(projects.json.id));
    expect(fromProtobuf.map((e) => [e.type, e.name, e.status])).toEqual([
      ["agent_run", "invoke_agent billing-refactor", "ok"],
      ["llm_call", "chat claude-sonnet-4-5", "ok"],
      ["tool_call", "execute_tool run_tests", "error"],
      ["llm_call", expect.any(String), "ok"],
    ]);
    expect(fromProtobuf[1]).toMatchObject({
      session: "conv-2f9a",
      model: "claude-sonnet-4-5-20250929",
      inputTokens: 110,
      cacheReadTokens: 20100,
      cacheWrite5mTokens: 4100,
      outputTokens: 812,
      costSource: "computed",
    });
    expect(Number(fromProtobuf[1].costUsd)).toBeGreaterThan(0);
    await exporter.shutdown();
  });

  it("stores nothing again for a replay, in either encoding", async () => {
    const before = await stored(projects.protobuf.id);
    const exporter = protobufExporter<ReadableSpan[]>(
      server.url,
      projects.protobuf.token,
      "traces",
    );
    expect(
      (await exportWith(exporter, casedSpans("otlp/genai-trace.json"))).code,
    ).toBe(ExportResultCode.SUCCESS);
    // The same spans as OTLP/JSON, from the SDK's JSON exporter.
    const jsonExporter = new OTLPTraceExporter({
      url: `${server.url}/api/otlp/v1/traces`,
      headers: { Authorization: `Bearer ${projects.protobuf.token}` },
    });
    expect(
      (await exportWith(jsonExporter, casedSpans("otlp/genai-trace.json")))
        .code,
    ).toBe(ExportResultCode.SUCCESS);

    expect(await stored(projects.protobuf.id)).toEqual(before);
    await exporter.shutdown();
    await jsonExporter.shutdown();
  });

  it("stores Claude Code's protobuf log events as their OTLP/JSON form does", async () => {
    const before = (await stored(projects.protobuf.id)).length;
    const exporter = protobufExporter<ReadableLogRecord[]>(
      server.url,
      projects.protobuf.token,
      "logs",
    );
    const records = await casedLogRecords("otlp/claude-code-logs.json");
    expect((await exportWith(exporter, records)).code).toBe(
      ExportResultCode.SUCCESS,
    );
    const json = await post(
      "logs",
      readCase("otlp/claude-code-logs.json"),
      {
        "content-type": "application/json",
      },
      projects.json.token,
    );
    expect(await json.json()).toEqual({});

    // Log events are keyed by a digest of the record as it arrived, which
    // differs between encodings; all else is the same.
    const logsOf = async (projectId: string) =>
      (await stored(projectId))
        .filter((e) => e.eventKey.startsWith("otlp-log:"))
        .map(({ eventKey: _key, ...event }) => event);
    const fromProtobuf = await logsOf(projects.protobuf.id);
    expect(fromProtobuf).toHaveLength(4);
    expect((await stored(projects.protobuf.id)).length).toBe(before + 4);
    expect(fromProtobuf).toEqual(await logsOf(projects.json.id));
    expect(fromProtobuf.find((e) => e.type === "llm_call")).toMatchObject({
      costSource: "reported",
      model: expect.any(String),
    });

    // A replay of the same records stores nothing.
    expect((await exportWith(exporter, records)).code).toBe(
      ExportResultCode.SUCCESS,
    );
    expect((await stored(projects.protobuf.id)).length).toBe(before + 4);
    await exporter.shutdown();
  });

  it("answers a partial success in protobuf, counting the rejected spans", async () => {
    const [good, ...rest] = casedSpans("otlp/genai-trace.json");
    const undated = { ...rest[0], startTime: [0, 0] as HrTime };
    const body = ProtobufTraceSerializer.serializeRequest([good, undated]);
    const response = await post("traces", body ?? new Uint8Array(), {
      "content-type": "application/x-protobuf",
    });

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/x-protobuf");
    const answer = ProtobufTraceSerializer.deserializeResponse(
      new Uint8Array(await response.arrayBuffer()),
    );
    expect(answer).toEqual({
      partialSuccess: {
        rejectedSpans: 1,
        errorMessage: "span 1: missing or invalid startTimeUnixNano",
      },
    });

    const accepted = await post(
      "traces",
      ProtobufTraceSerializer.serializeRequest([good]) ?? new Uint8Array(),
      { "content-type": "application/x-protobuf" },
    );
    expect(accepted.status).toBe(200);
    expect((await accepted.arrayBuffer()).byteLength).toBe(0);
  });

  it("refuses malformed protobuf with 400 and a message, storing nothing", async () => {
    const before = (await stored(projects.protobuf.id)).length;
    const whole = ProtobufTraceSerializer.serializeRequest(
      casedSpans("otlp/genai-trace.json"),
    );
    if (!whole) throw new Error("the serializer wrote nothing");
    const cut = whole.subarray(0, whole.length - 7);

    const attempts: Record<string, string>[] = [
      { "content-type": "application/x-protobuf" },
      {
        "content-type": "application/x-protobuf",
        "content-encoding": "gzip",
      },
    ];
    for (const headers of attempts) {
      const response = await post(
        "traces",
        headers["content-encoding"] ? zlib.gzipSync(cut) : cut,
        headers,
      );
      expect(response.status).toBe(400);
      expect(response.headers.get("content-type")).toBe(
        "application/x-protobuf",
      );
      const message = statusMessage(
        new Uint8Array(await response.arrayBuffer()),
      );
      expect(message).toMatch(
        /^Request body is not a valid OTLP protobuf ExportTraceServiceRequest: .* runs past the end of the message in resourceSpans\[0\]/,
      );
    }
    expect((await stored(projects.protobuf.id)).length).toBe(before);
  });

  it("answers failures to a protobuf exporter in protobuf", async () => {
    const unknownToken = await post(
      "logs",
      new Uint8Array(),
      { "content-type": "application/x-protobuf" },
      `flt_${"x".repeat(32)}`,
    );
    expect(unknownToken.status).toBe(401);
    expect(
      statusMessage(new Uint8Array(await unknownToken.arrayBuffer())),
    ).toBe("Unknown token");

    const notGzip = await post("logs", "plain text", {
      "content-type": "application/x-protobuf",
      "content-encoding": "gzip",
    });
    expect(notGzip.status).toBe(400);
    expect(statusMessage(new Uint8Array(await notGzip.arrayBuffer()))).toBe(
      "Request body is not valid gzip data",
    );
  });

  it("refuses a gzip body that inflates past the limit with 413", async () => {
    // 5 MiB of zeros, about 5 kB compressed: past the 4 MiB limit only
    // once inflated.
    const bomb = zlib.gzipSync(Buffer.alloc(5 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(64 * 1024);
    for (const type of ["application/x-protobuf", "application/json"]) {
      const response = await post("traces", bomb, {
        "content-type": type,
        "content-encoding": "gzip",
      });
      expect(response.status).toBe(413);
    }
  });

  it("reads gzipped OTLP/JSON too, and refuses other content types with 415", async () => {
    const gzipped = await post(
      "logs",
      zlib.gzipSync(readCase("otlp/claude-code-logs.json")),
      { "content-type": "application/json", "content-encoding": "gzip" },
      projects.json.token,
    );
    expect(gzipped.status).toBe(200);
    expect(await gzipped.json()).toEqual({});

    const text = await post("traces", "hello", {
      "content-type": "text/plain",
    });
    expect(text.status).toBe(415);
    const answer = (await text.json()) as { error: { message: string } };
    expect(answer.error.message).toContain("application/x-protobuf");
  });
});
