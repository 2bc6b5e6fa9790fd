import type { EventInput, Normalized } from "../ingest";
import { MAX_JSON_DEPTH, nestedDeeperThan } from "../limits";
import { nativeEventSchema, type NativeEvent } from "../model";

// Native events are already in Flotilla's model; each item is validated on
// its own so one bad item is rejected with its index and the rest stored.

export function fromNativeItems(items: unknown[]): Normalized {
  const normalized: Normalized = { items: [], rejections: [] };
  items.forEach((item, index) => {
    const parsed = nativeEventSchema.safeParse(item);
    if (!parsed.success) {
      normalized.rejections.push({
        index,
        reason: parsed.error.issues
          .slice(0, 3)
          .map((i) => `${i.path.join(".") || "(event)"}: ${i.message}`)
          .join("; "),
      });

      return;
    }
    const deep = tooDeep(parsed.data);
    if (deep) {
      normalized.rejections.push({
        index,
        reason: `${deep}: nested deeper than ${MAX_JSON_DEPTH} levels`,
      });

      return;
    }
    const event = fromNative(parsed.data);
    // The schema checked the attributes are an object, but its copy drops
    // a key named __proto__: the object as sent is kept.
    if (event.attributes) {
      event.attributes = (item as { attributes: Record<string, unknown> })
        .attributes;
    }
    normalized.items.push({ index, event });
  });

  return normalized;
}

// The free-form values, measured before anything walks them recursively.
function tooDeep(event: NativeEvent): string | null {
  if (nestedDeeperThan(event.input, MAX_JSON_DEPTH)) return "input";
  if (nestedDeeperThan(event.output, MAX_JSON_DEPTH)) return "output";
  for (const [name, value] of Object.entries(event.attributes ?? {})) {
    if (nestedDeeperThan(value, MAX_JSON_DEPTH)) return `attributes.${name}`;
  }

  return null;
}

export function fromNative(event: NativeEvent): EventInput {
  const usage = event.usage;

  return {
    key: event.id,
    sessionId: event.sessionId,
    sessionTitle: event.sessionTitle ?? null,
    type: event.type,
    name: event.name ?? event.toolName ?? event.type,
    status: event.status,
    occurredAt: new Date(event.time),
    durationMs: event.durationMs ?? null,
    taskId: event.taskId ?? null,
    traceId: event.traceId ?? null,
    spanId: event.spanId ?? null,
    parentSpanId: event.parentSpanId ?? null,
    toolName: event.toolName ?? null,
    model: event.model ?? null,
    provider: event.provider ?? null,
    usage: usage
      ? {
          input: usage.inputTokens,
          output: usage.outputTokens,
          cacheRead: usage.cacheReadTokens,
          cacheWrite5m: usage.cacheWrite5mTokens,
          cacheWrite1h: usage.cacheWrite1hTokens,
        }
      : null,
    reportedCostUsd: event.costUsd ?? null,
    input: event.input,
    output: event.output,
    attributes: event.attributes ?? null,
  };
}
