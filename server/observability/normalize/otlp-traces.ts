import type { EventInput, Normalized } from "../ingest";
import { MAX_JSON_DEPTH, PayloadTooDeep } from "../limits";
import type { EventType } from "../model";
import { usageFromOtelGenAi } from "../prices";
import {
  attributeMap,
  count,
  flattenOtlp,
  records,
  type OtlpItem,
  nanosBetween,
  nanosToDate,
  str,
} from "./otlp-values";

// OTLP/HTTP JSON traces. Spans following the OpenTelemetry GenAI
// conventions become llm_call (chat and completion spans), tool_call
// (execute_tool) and agent_run (invoke_agent); any other span is kept as a
// plain span. A span with status ERROR is an event with status error.

const llmOperations = new Set([
  "chat",
  "text_completion",
  "generate_content",
  "embeddings",
]);
const agentOperations = new Set(["invoke_agent", "create_agent"]);

const spanKeys = {
  resource: "resourceSpans",
  scope: "scopeSpans",
  items: "spans",
};

type RawSpan = { span: Record<string, unknown> } & Omit<OtlpItem, "item">;

/** Every readable span in the request, in order, with its resource and
 * scope, and the entries that are not spans. */
function flattenSpans(body: unknown) {
  const { items, rejections } = flattenOtlp(body, spanKeys);
  const spans: RawSpan[] = items.map(({ item, ...rest }) => ({
    span: item,
    ...rest,
  }));

  return { spans, rejections };
}

function statusOf(span: Record<string, unknown>) {
  const status = (span.status ?? {}) as { code?: unknown; message?: unknown };
  const code = status.code;
  const failed = code === 2 || code === "2" || code === "STATUS_CODE_ERROR";

  return { failed, message: str(status.message) };
}

function exceptions(span: Record<string, unknown>) {
  return records(span.events)
    .filter((event) => event.name === "exception")
    .map((event) => {
      const attributes = attributeMap(event.attributes);

      return {
        type: attributes["exception.type"] ?? null,
        message: attributes["exception.message"] ?? null,
      };
    });
}

function typeOf(operation: string | null, attributes: Record<string, unknown>) {
  if (operation && llmOperations.has(operation)) return "llm_call";
  if (operation === "execute_tool") return "tool_call";
  if (operation && agentOperations.has(operation)) return "agent_run";
  if (attributes["gen_ai.usage.input_tokens"] !== undefined) return "llm_call";

  return "span";
}

// Spans of one trace share a session: the conversation (or session) id any
// of them names, else the trace itself.
function sessionsByTrace(spans: RawSpan[]): Map<string, string> {
  const sessions = new Map<string, string>();
  for (const { span, resource } of spans) {
    const traceId = str(span.traceId);
    if (!traceId || sessions.has(traceId)) continue;
    let attributes: Record<string, unknown>;
    try {
      attributes = attributeMap(span.attributes);
    } catch (error) {
      // The span itself is rejected when it is mapped.
      if (error instanceof PayloadTooDeep) continue;
      throw error;
    }
    const named =
      str(attributes["gen_ai.conversation.id"]) ??
      str(attributes["session.id"]) ??
      str(resource["session.id"]);
    if (named) sessions.set(traceId, named);
  }

  return sessions;
}

export function fromOtlpTraces(body: unknown): Normalized {
  const { spans, rejections } = flattenSpans(body);
  const sessions = sessionsByTrace(spans);
  const normalized: Normalized = { items: [], rejections };

  for (const { span, resource, scope, index } of spans) {
    const traceId = str(span.traceId);
    const spanId = str(span.spanId);
    const occurredAt = nanosToDate(span.startTimeUnixNano);
    const missing = [
      !traceId && "traceId",
      !spanId && "spanId",
      !occurredAt && "startTimeUnixNano",
    ].filter(Boolean);
    if (!traceId || !spanId || !occurredAt) {
      normalized.rejections.push({
        index,
        reason: `missing or invalid ${missing.join(", ")}`,
      });
      continue;
    }
    let event: EventInput;
    try {
      event = spanToEvent(span, resource, scope, occurredAt);
    } catch (error) {
      if (!(error instanceof PayloadTooDeep)) throw error;
      normalized.rejections.push({
        index,
        reason: `attribute values are nested deeper than ${MAX_JSON_DEPTH} levels`,
      });
      continue;
    }
    event.key = `otlp:${traceId}:${spanId}`;
    event.sessionId = sessions.get(traceId) ?? traceId;
    normalized.items.push({ index, event });
  }

  return normalized;
}

function spanToEvent(
  span: Record<string, unknown>,
  resource: Record<string, unknown>,
  scope: string | null,
  occurredAt: Date,
): EventInput {
  const attributes = attributeMap(span.attributes);
  const operation = str(attributes["gen_ai.operation.name"]);
  const type: EventType = typeOf(operation, attributes);
  const status = statusOf(span);
  const errors = exceptions(span);
  const name = str(span.name) ?? operation ?? "span";
  const event: EventInput = {
    key: "",
    sessionId: "",
    type,
    name,
    status: status.failed ? "error" : "ok",
    occurredAt,
    durationMs: nanosBetween(span.startTimeUnixNano, span.endTimeUnixNano),
    traceId: str(span.traceId),
    spanId: str(span.spanId),
    parentSpanId: str(span.parentSpanId),
    provider:
      str(attributes["gen_ai.provider.name"]) ??
      str(attributes["gen_ai.system"]),
    attributes: {
      ...attributes,
      "otel.span.kind": span.kind ?? null,
      "otel.scope.name": scope,
      resource,
    },
  };

  if (type === "llm_call") {
    event.model =
      str(attributes["gen_ai.response.model"]) ??
      str(attributes["gen_ai.request.model"]);
    event.usage = usageFromOtelGenAi({
      inputTokens: count(attributes["gen_ai.usage.input_tokens"]),
      outputTokens: count(attributes["gen_ai.usage.output_tokens"]),
      cacheReadTokens: count(
        attributes["gen_ai.usage.cache_read.input_tokens"],
      ),
      cacheCreationTokens: count(
        attributes["gen_ai.usage.cache_creation.input_tokens"],
      ),
    });
  }
  if (type === "tool_call") {
    event.toolName = str(attributes["gen_ai.tool.name"]);
    event.input = attributes["gen_ai.tool.call.arguments"] ?? null;
    event.output = attributes["gen_ai.tool.call.result"] ?? null;
  }
  if (status.failed || errors.length > 0) {
    event.output = {
      ...(event.output !== null &&
      event.output !== undefined &&
      typeof event.output === "object"
        ? (event.output as Record<string, unknown>)
        : event.output !== null && event.output !== undefined
          ? { result: event.output }
          : {}),
      error: status.message,
      exceptions: errors,
    };
  }

  return event;
}
