import crypto from "node:crypto";
import { z } from "zod";
import { canonicalJson } from "../canonical-json";
import type { EventInput } from "../ingest";
import type { EventStatus, EventType } from "../model";

// Claude Code HTTP hook bodies, exactly as Claude Code posts them. Only the
// session id and the event name are required; every other field is read if
// present and kept in `attributes` otherwise, so new fields never break
// ingest.

export const hookBodySchema = z.looseObject({
  session_id: z.string().trim().min(1).max(300),
  hook_event_name: z.string().trim().min(1).max(100),
});

export type HookBody = z.infer<typeof hookBodySchema> & Record<string, unknown>;

// Fields mapped onto the event itself rather than kept as attributes.
const mappedFields = new Set([
  "session_id",
  "hook_event_name",
  "tool_input",
  "tool_response",
  "prompt",
  "last_assistant_message",
  "message",
  "error",
]);

const fileTools = new Set(["Edit", "MultiEdit", "Write", "NotebookEdit"]);

function text(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 ? value : null;
}

/** A stable digest of a body, for hook events that carry no id of their
 * own: the same body sent twice is the same event. */
function digest(body: HookBody): string {
  return crypto
    .createHash("sha256")
    .update(canonicalJson(body))
    .digest("hex")
    .slice(0, 32);
}

/** The event's identity: the session, the hook event and what the event
 * is about (the tool use, the subagent), else a digest of the body. */
export function hookEventKey(body: HookBody): string {
  const event = body.hook_event_name;
  const subject =
    text(body.tool_use_id) ??
    (event.startsWith("Subagent") ? text(body.agent_id) : null) ??
    digest(body);

  return `claude-code:${body.session_id}:${event}:${subject}`;
}

// A tool response that reports failure even though the hook was
// PostToolUse (some tools answer with an error object instead of failing).
function responseFailed(response: unknown): boolean {
  if (!response || typeof response !== "object") return false;
  const r = response as Record<string, unknown>;

  return (
    r.is_error === true ||
    r.isError === true ||
    r.success === false ||
    (typeof r.error === "string" && r.error.length > 0)
  );
}

function classify(body: HookBody): {
  type: EventType;
  name: string;
  status: EventStatus;
} {
  const tool = text(body.tool_name);
  switch (body.hook_event_name) {
    case "SessionStart":
      return { type: "session_start", name: "session start", status: "ok" };
    case "SessionEnd":
      return { type: "session_end", name: "session end", status: "ok" };
    case "UserPromptSubmit":
      return { type: "message", name: "user prompt", status: "ok" };
    case "Stop":
      return { type: "message", name: "assistant reply", status: "ok" };
    case "PreToolUse":
      return {
        type: "guardrail_decision",
        name: `permission: ${tool ?? "tool"}`,
        status: "ok",
      };
    case "PostToolUse":
      return {
        type: tool && fileTools.has(tool) ? "file_change" : "tool_call",
        name: tool ?? "tool",
        status: responseFailed(body.tool_response) ? "error" : "ok",
      };
    case "PostToolUseFailure":
      return {
        type: tool && fileTools.has(tool) ? "file_change" : "tool_call",
        name: tool ?? "tool",
        status: "error",
      };
    case "SubagentStart":
      return { type: "subagent", name: "subagent start", status: "ok" };
    case "SubagentStop":
      return { type: "subagent", name: "subagent stop", status: "ok" };
    case "Notification":
      return {
        type: "notification",
        name: text(body.notification_type) ?? "notification",
        status: "ok",
      };
    default:
      // PreCompact, PermissionRequest and events added later.
      return { type: "notification", name: body.hook_event_name, status: "ok" };
  }
}

/** One hook body as an event, received at `receivedAt` (hooks carry no
 * time of their own). */
export function fromHookBody(body: HookBody, receivedAt: Date): EventInput {
  const { type, name, status } = classify(body);
  const event = body.hook_event_name;
  const attributes: Record<string, unknown> = { hook_event_name: event };
  for (const [field, value] of Object.entries(body)) {
    if (!mappedFields.has(field)) attributes[field] = value;
  }

  let input: unknown = body.tool_input ?? null;
  let output: unknown = body.tool_response ?? null;
  if (event === "UserPromptSubmit") input = body.prompt ?? null;
  if (event === "Stop") output = body.last_assistant_message ?? null;
  if (event === "Notification") input = body.message ?? null;
  if (event === "PostToolUseFailure") output = { error: body.error ?? null };
  else if (body.error !== undefined) attributes.error = body.error;
  if (event === "PreToolUse") output = null;
  if (body.message !== undefined && event !== "Notification") {
    attributes.message = body.message;
  }

  const prompt = text(body.prompt);

  return {
    key: hookEventKey(body),
    sessionId: body.session_id,
    sessionTitle: event === "UserPromptSubmit" && prompt ? prompt : null,
    type,
    name,
    status,
    occurredAt: receivedAt,
    toolName: text(body.tool_name),
    model: event === "SessionStart" ? text(body.model) : null,
    input,
    output,
    attributes,
  };
}
