import type { Database } from "@/db/client";
import { invalidInput } from "@/server/errors";
import { evaluate, preToolUseOutput } from "@/server/guardrails/policy";
import { now } from "@/server/runtime";
import { storeEvents, type AgentActor, type IngestResult } from "./ingest";
import { checkEvent, MAX_JSON_DEPTH, nestedDeeperThan } from "./limits";
import {
  fromHookBody,
  hookBodySchema,
  type HookBody,
} from "./normalize/claude-code-hook";

// POST /api/agent/v1/hooks/claude-code: records the hook as an event and
// answers in the form Claude Code reads. Only PreToolUse asks a question;
// every other event is answered with an empty object.

export interface PreToolUseAnswer {
  hookSpecificOutput: {
    hookEventName: "PreToolUse";
    permissionDecision: "allow" | "deny" | "ask";
    permissionDecisionReason?: string;
  };
}

export type HookAnswer = PreToolUseAnswer | Record<string, never>;

export interface HookReceipt {
  answer: HookAnswer;
  result: IngestResult;
}

// The body field behind an event field that failed its check.
function hookField(hook: HookBody, field: string): string {
  if (field === "sessionId") return "session_id";
  if (field === "key") {
    if (typeof hook.tool_use_id === "string" && hook.tool_use_id !== "") {
      return "tool_use_id";
    }
    if (
      hook.hook_event_name.startsWith("Subagent") &&
      typeof hook.agent_id === "string" &&
      hook.agent_id !== ""
    ) {
      return "agent_id";
    }

    return "hook_event_name";
  }

  return field;
}

export async function receiveClaudeCodeHook(
  db: Database,
  actor: AgentActor,
  body: unknown,
): Promise<HookReceipt> {
  const parsed = hookBodySchema.safeParse(body);
  if (!parsed.success) {
    throw invalidInput(
      "Not a Claude Code hook body: session_id and hook_event_name are " +
        "required strings",
      parsed.error.issues.map((i) => ({
        path: i.path.map(String).join(".") || "(root)",
        message: i.message,
      })),
    );
  }
  const hook = parsed.data as HookBody;
  // Measured before anything walks the body recursively (the digest).
  for (const [field, value] of Object.entries(hook)) {
    if (nestedDeeperThan(value, MAX_JSON_DEPTH)) {
      const message = `nested deeper than ${MAX_JSON_DEPTH} levels`;
      throw invalidInput(`${field} is ${message}`, [{ path: field, message }]);
    }
  }
  const event = fromHookBody(hook, now());
  // One body is one event: what storing would reject is a 400 naming the
  // hook field it came from.
  const checked = checkEvent(event);
  if (!checked.ok) {
    throw invalidInput(checked.reason, [
      { path: hookField(hook, checked.field), message: checked.reason },
    ]);
  }

  let answer: HookAnswer = {};
  if (hook.hook_event_name === "PreToolUse") {
    // The guardrail policy decides (kill switch, paused agent, tool,
    // command and path rules); Claude Code shows the reason.
    const decision = await evaluate(db, {
      projectId: actor.projectId,
      agentId: actor.agentId,
      toolUse: {
        toolName: typeof hook.tool_name === "string" ? hook.tool_name : "",
        toolInput: hook.tool_input,
      },
    });
    answer = preToolUseOutput(decision);
    event.status = decision.decision === "deny" ? "denied" : "ok";
    event.output =
      decision.decision === "allow"
        ? { permissionDecision: "allow" }
        : {
            permissionDecision: decision.decision,
            rule: decision.rule,
            reason: decision.reason,
          };
    if (decision.decision !== "allow") {
      event.attributes = { ...event.attributes, guardrail_decision: decision };
    }
  }

  const result = await storeEvents(db, actor, "claude-code", {
    items: [{ index: 0, event }],
    rejections: [],
  });

  return { answer, result };
}
