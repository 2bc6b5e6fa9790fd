import { context, SpanStatusCode, trace } from "@opentelemetry/api";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { and, asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLoopbackServer, type LoopbackServer } from "@/client/testing";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { events } from "@/db/schema";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject } from "./testing";

// The OpenTelemetry JavaScript SDK's own OTLP/HTTP exporter, configured as
// an agent would configure it (JSON, the agent's bearer token), sending
// GenAI spans to the traces route on a loopback port. What the SDK puts on
// the wire is what Flotilla has to read; nothing here is hand-written OTLP.

/** Passes spans to the exporter and keeps each export's result, which a
 * span processor would otherwise only log. */
class RecordingExporter implements SpanExporter {
  readonly results: ExportResult[] = [];

  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void) {
    this.inner.export(spans, (result) => {
      this.results.push(result);
      done(result);
    });
  }

  shutdown() {
    return this.inner.shutdown();
  }

  forceFlush() {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

function tracing(url: string, token: string) {
  const exporter = new RecordingExporter(
    new OTLPTraceExporter({
      url: `${url}/api/otlp/v1/traces`,
      headers: { Authorization: `Bearer ${token}` },
      timeoutMillis: 10_000,
    }),
  );
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": "shop-agent" }),
    // As agents run it: spans are batched, one request per flush.
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });

  return { exporter, provider, tracer: provider.getTracer("shop-agent") };
}

describe.each(testKinds)("OpenTelemetry SDK exporter on %s", (kind) => {
  let handle: DatabaseHandle;
  let server: LoopbackServer;
  let projectId: string;
  let secret: string;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    const project = await makeProject(handle.db, `otel-sdk-${kind}`);
    projectId = project.id;
    secret = (await makeAgent(handle.db, project.id, "otel")).secret;
    server = await startLoopbackServer();
  });

  afterAll(async () => {
    await server?.close();
    useDatabase(null);
    await handle?.close();
  });

  it("stores GenAI spans as priced events", async () => {
    const { exporter, provider, tracer } = tracing(server.url, secret);

    const agent = tracer.startSpan("invoke_agent shop-agent", {
      attributes: {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.conversation.id": "conv-otel-sdk",
      },
    });
    // Children of the agent span, in its trace.
    const within = trace.setSpan(context.active(), agent);
    tracer
      .startSpan(
        "chat claude-sonnet-4-5",
        {
          attributes: {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "anthropic",
            "gen_ai.request.model": "claude-sonnet-4-5",
            "gen_ai.usage.input_tokens": 1200,
            "gen_ai.usage.output_tokens": 300,
          },
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
        },
      },
      within,
    );
    tool.setStatus({ code: SpanStatusCode.ERROR, message: "exit 1" });
    tool.end();
    tracer
      .startSpan(
        "chat gpt-5-mini",
        {
          attributes: {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-5-mini",
            // OpenTelemetry counts cached tokens inside input_tokens.
            "gen_ai.usage.input_tokens": 10_000,
            "gen_ai.usage.cache_read.input_tokens": 4_000,
            "gen_ai.usage.output_tokens": 500,
          },
        },
        within,
      )
      .end();
    agent.end();
    await provider.forceFlush();
    await provider.shutdown();

    expect(exporter.results.map((r) => r.code)).toEqual([
      ExportResultCode.SUCCESS,
    ]);
    const stored = await handle.db
      .select()
      .from(events)
      .where(eq(events.projectId, projectId))
      .orderBy(asc(events.occurredAt), asc(events.name));
    const byName = new Map(stored.map((e) => [e.name, e]));
    expect([...byName.keys()].sort()).toEqual([
      "chat claude-sonnet-4-5",
      "chat gpt-5-mini",
      "execute_tool Bash",
      "invoke_agent shop-agent",
    ]);
    // One session: the conversation id the agent span carries, shared by
    // the spans of its trace sent in the same request.
    expect(new Set(stored.map((e) => e.sessionId)).size).toBe(1);

    // Sonnet 4.x: $3 per million input tokens, $15 per million output.
    expect(byName.get("chat claude-sonnet-4-5")).toMatchObject({
      type: "llm_call",
      model: "claude-sonnet-4-5",
      inputTokens: 1200,
      outputTokens: 300,
      costUsd: "0.00810000",
      costSource: "computed",
    });
    // gpt-5-mini: 6,000 plain input at $0.25, 4,000 cached at $0.025 and
    // 500 output at $2 per million.
    expect(byName.get("chat gpt-5-mini")).toMatchObject({
      type: "llm_call",
      inputTokens: 6000,
      cacheReadTokens: 4000,
      outputTokens: 500,
      costUsd: "0.00260000",
    });
    expect(byName.get("execute_tool Bash")).toMatchObject({
      type: "tool_call",
      toolName: "Bash",
      status: "error",
      costUsd: null,
    });
    expect(byName.get("invoke_agent shop-agent")?.type).toBe("agent_run");
  });

  it("is refused with an unknown token, and nothing is stored", async () => {
    const { exporter, provider, tracer } = tracing(
      server.url,
      `flt_${"x".repeat(32)}`,
    );

    tracer
      .startSpan("chat claude-haiku-4-5", {
        attributes: {
          "gen_ai.operation.name": "chat",
          "gen_ai.request.model": "claude-haiku-4-5",
          "gen_ai.usage.input_tokens": 10,
          "gen_ai.usage.output_tokens": 10,
        },
      })
      .end();
    // The SDK surfaces the refusal as a failed flush.
    await expect(provider.forceFlush()).rejects.toEqual([
      expect.objectContaining({
        code: 401,
        data: expect.stringContaining('"message":"Unknown token"'),
      }),
    ]);
    await provider.shutdown();

    expect(exporter.results.map((r) => r.code)).toEqual([
      ExportResultCode.FAILED,
    ]);
    expect(exporter.results[0].error).toMatchObject({ code: 401 });
    const stored = await handle.db
      .select({ id: events.id })
      .from(events)
      .where(
        and(
          eq(events.projectId, projectId),
          eq(events.model, "claude-haiku-4-5"),
        ),
      );
    expect(stored).toEqual([]);
  });
});
