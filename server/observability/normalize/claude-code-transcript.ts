import { usageFromAnthropic } from "../prices";
import type { NativeEvent } from "../model";

// Claude Code transcript lines -> native llm_call events. The assistant
// lines carry the model and Anthropic usage; this is where real token counts
// come from. Claude Code writes one line per content block of a response,
// each repeating the response's usage, so the event key is the API request
// (or message) id: the repeats collapse into one event.

interface AssistantLine {
  type?: unknown;
  sessionId?: unknown;
  uuid?: unknown;
  timestamp?: unknown;
  requestId?: unknown;
  message?: {
    id?: unknown;
    model?: unknown;
    usage?: Record<string, unknown>;
    stop_reason?: unknown;
  };
}

function text(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 ? value : null;
}

function tokens(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0
    ? Math.round(value)
    : undefined;
}

export function transcriptUsageEvents(lines: unknown[]): NativeEvent[] {
  const out: NativeEvent[] = [];
  for (const raw of lines) {
    const line = raw as AssistantLine;
    if (!line || line.type !== "assistant" || !line.message?.usage) continue;
    const sessionId = text(line.sessionId);
    const time = text(line.timestamp);
    const identity =
      text(line.requestId) ?? text(line.message.id) ?? text(line.uuid);
    if (!sessionId || !time || !identity) continue;
    const usage = line.message.usage;
    const split = usage.cache_creation as Record<string, unknown> | undefined;
    const counted = usageFromAnthropic({
      input_tokens: tokens(usage.input_tokens),
      output_tokens: tokens(usage.output_tokens),
      cache_read_input_tokens: tokens(usage.cache_read_input_tokens),
      cache_creation_input_tokens: tokens(usage.cache_creation_input_tokens),
      cache_creation: split
        ? {
            ephemeral_5m_input_tokens: tokens(split.ephemeral_5m_input_tokens),
            ephemeral_1h_input_tokens: tokens(split.ephemeral_1h_input_tokens),
          }
        : undefined,
    });
    const model = text(line.message.model);
    out.push({
      id: `claude-code:${sessionId}:usage:${identity}`,
      sessionId,
      type: "llm_call",
      name: "api request",
      status: "ok",
      time,
      model: model ?? undefined,
      provider: "anthropic",
      usage: {
        inputTokens: counted.input,
        outputTokens: counted.output,
        cacheReadTokens: counted.cacheRead,
        cacheWrite5mTokens: counted.cacheWrite5m,
        cacheWrite1hTokens: counted.cacheWrite1h,
      },
      attributes: {
        requestId: text(line.requestId),
        messageId: text(line.message.id),
        stopReason: text(line.message.stop_reason),
        transcriptUuid: text(line.uuid),
      },
    });
  }

  return out;
}
