import crypto from "node:crypto";
import type { EventInput, Normalized } from "../ingest";
import { MAX_JSON_DEPTH, PayloadTooDeep } from "../limits";
import { usageFromAnthropic } from "../prices";
import { canonicalJson } from "../canonical-json";
import {
  attributeMap,
  anyValue,
  count,
  flattenOtlp,
  nanosToDate,
  str,
} from "./otlp-values";

// OTLP/HTTP JSON logs, read as Claude Code's telemetry events (user_prompt,
// api_request, api_error, tool_result, tool_decision). Claude Code sends
// every attribute value as a string. Its token counts follow Anthropic's
// usage, where input tokens exclude the cached ones, and api_request carries
// the cost Claude Code computed, which is kept as reported.

const logKeys = {
  resource: "resourceLogs",
  scope: "scopeLogs",
  items: "logRecords",
};

function timeOf(
  record: Record<string, unknown>,
  attributes: Record<string, unknown>,
) {
  const stamped = str(attributes["event.timestamp"]);
  if (stamped) {
    const date = new Date(stamped);
    if (!Number.isNaN(date.getTime())) return date;
  }

  return (
    nanosToDate(record.timeUnixNano) ?? nanosToDate(record.observedTimeUnixNano)
  );
}

function eventName(
  record: Record<string, unknown>,
  attributes: Record<string, unknown>,
) {
  const named = str(attributes["event.name"]) ?? str(record.eventName);
  if (named) return named.replace(/^claude_code\./, "");
  const body = str(anyValue(record.body));

  return body ? body.replace(/^claude_code\./, "") : null;
}

function parseJsonText(value: unknown): unknown {
  if (typeof value !== "string") return value ?? null;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

export function fromOtlpLogs(body: unknown): Normalized {
  const { items, rejections } = flattenOtlp(body, logKeys);
  const normalized: Normalized = { items: [], rejections };
  for (const { item: record, resource, scope, index } of items) {
    let attributes: Record<string, unknown>;
    let name: string | null;
    try {
      attributes = attributeMap(record.attributes);
      name = eventName(record, attributes);
    } catch (error) {
      if (!(error instanceof PayloadTooDeep)) throw error;
      normalized.rejections.push({
        index,
        reason: `attribute values are nested deeper than ${MAX_JSON_DEPTH} levels`,
      });
      continue;
    }
    const sessionId =
      str(attributes["session.id"]) ??
      str(resource["session.id"]) ??
      str(record.traceId);
    const occurredAt = timeOf(record, attributes);
    if (!sessionId || !occurredAt || !name) {
      const missing = [
        !sessionId && "a session.id attribute",
        !occurredAt && "a time",
        !name && "an event name",
      ].filter(Boolean);
      normalized.rejections.push({
        index,
        reason: `needs ${missing.join(", ")}`,
      });
      continue;
    }
    const event = recordToEvent(name, attributes, occurredAt);
    event.key = `otlp-log:${crypto
      .createHash("sha256")
      .update(canonicalJson(record))
      .digest("hex")
      .slice(0, 40)}`;
    event.sessionId = sessionId;
    event.traceId = str(record.traceId);
    event.spanId = str(record.spanId);
    event.attributes = {
      ...attributes,
      "otel.scope.name": scope,
      resource,
    };
    normalized.items.push({ index, event });
  }

  return normalized;
}

function recordToEvent(
  name: string,
  attributes: Record<string, unknown>,
  occurredAt: Date,
): EventInput {
  const base: EventInput = {
    key: "",
    sessionId: "",
    type: "notification",
    name,
    status: "ok",
    occurredAt,
    durationMs: count(attributes.duration_ms) ?? null,
  };
  const model = str(attributes.model);
  const tool = str(attributes.tool_name);

  switch (name) {
    case "user_prompt":
      return {
        ...base,
        type: "message",
        name: "user prompt",
        input: str(attributes.prompt),
        sessionTitle: str(attributes.prompt),
      };
    case "api_request":
      return {
        ...base,
        type: "llm_call",
        name: "api request",
        model,
        provider: "anthropic",
        usage: usageFromAnthropic({
          input_tokens: count(attributes.input_tokens),
          output_tokens: count(attributes.output_tokens),
          cache_read_input_tokens: count(attributes.cache_read_tokens),
          cache_creation_input_tokens: count(attributes.cache_creation_tokens),
        }),
        reportedCostUsd: reportedCost(attributes.cost_usd),
      };
    case "api_error":
      return {
        ...base,
        type: "error",
        name: "api error",
        status: "error",
        model,
        provider: "anthropic",
        output: {
          error: attributes.error ?? null,
          statusCode: attributes.status_code ?? null,
        },
      };
    case "tool_result": {
      const failed =
        attributes.success === false || str(attributes.success) === "false";

      return {
        ...base,
        type: "tool_call",
        name: tool ?? "tool",
        toolName: tool,
        status: failed ? "error" : "ok",
        input: parseJsonText(attributes.tool_parameters),
        output: failed ? { error: attributes.error ?? null } : null,
      };
    }
    case "tool_decision": {
      const decision = str(attributes.decision);

      return {
        ...base,
        type: "guardrail_decision",
        name: `permission: ${tool ?? "tool"}`,
        toolName: tool,
        status: decision === "reject" ? "denied" : "ok",
        output: { decision, source: attributes.source ?? null },
      };
    }
    default:
      return base;
  }
}

function reportedCost(value: unknown): number | null {
  const n = typeof value === "string" ? Number(value) : value;

  return typeof n === "number" && Number.isFinite(n) && n >= 0 ? n : null;
}
