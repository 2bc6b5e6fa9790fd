import { posix } from "node:path";
import type { Database } from "@/db/client";
import { DomainError, invalidInput } from "@/server/errors";
import {
  evaluate,
  preToolUseOutput,
  type PolicyDecision,
} from "@/server/guardrails/policy";
import { settleAsk } from "@/server/guardrails/ask";
import { recordGuardrailRefusal } from "@/server/guardrails/refusals";
import {
  checkPaths,
  checkPathsInput,
  describeHold,
} from "@/server/orchestration/reservations";
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
  /** The approval an "ask" decision opened or reused. */
  approvalId?: string;
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

// Tools that change a file, and the fields that may name it, in order.
const fileEditTools: Record<string, string[]> = {
  Edit: ["file_path"],
  MultiEdit: ["file_path"],
  Write: ["file_path"],
  NotebookEdit: ["notebook_path", "file_path"],
};

// "C:\\repo" or "c:/repo": a Windows path, whose backslashes separate
// folders. Anywhere else a backslash is part of a file's name.
const WINDOWS_DRIVE = /^[A-Za-z]:[\\/]/;

/** "." and ".." resolved and trailing slashes dropped; "" for a relative
 * path that names the folder itself, null for one that climbs out of it. */
function cleanPath(path: string, windows: boolean): string | null {
  const slashed = windows ? path.replace(/\\/g, "/") : path;
  const normalized = posix.normalize(slashed);
  // A root ("/", "C:/") keeps its slash; any other path loses it.
  const trimmed = normalized.replace(/\/+$/, "");
  const clean =
    trimmed === "" || /^[A-Za-z]:$/.test(trimmed) ? normalized : trimmed;
  if (clean === ".") return "";
  if (clean === ".." || clean.startsWith("../")) return null;

  return clean;
}

function isAbsolute(path: string, windows: boolean): boolean {
  return path.startsWith("/") || (windows && WINDOWS_DRIVE.test(path));
}

/** The repository path a file-editing tool call changes, or null. An
 * absolute path is made relative to the session's `cwd`, which is taken to
 * be the repository root; a file outside it is not the project's. Both are
 * normalized first, so "/repo/zzz/../abs/f.ts" is "abs/f.ts" and a cwd of
 * "/repo/abs/.." is "/repo". Backslashes separate folders only in Windows
 * paths (a drive letter on the file or the cwd). */
export function editedPath(hook: HookBody): string | null {
  const fields = fileEditTools[String(hook.tool_name)];
  const input = hook.tool_input as Record<string, unknown> | undefined;
  if (!fields || !input || typeof input !== "object") return null;
  const raw = fields
    .map((field) => input[field])
    .find((value) => typeof value === "string" && value.trim() !== "");
  if (typeof raw !== "string") return null;
  const rawCwd = typeof hook.cwd === "string" ? hook.cwd.trim() : "";
  const windows = WINDOWS_DRIVE.test(raw.trim()) || WINDOWS_DRIVE.test(rawCwd);
  const file = cleanPath(raw.trim(), windows);
  if (file === null || file === "") return null;
  if (!isAbsolute(file, windows)) return file;
  const cwd = rawCwd === "" ? null : cleanPath(rawCwd, windows);
  if (!cwd || !isAbsolute(cwd, windows)) return null;
  // Windows compares paths without regard to case.
  const same = (a: string, b: string) =>
    windows ? a.toLowerCase() === b.toLowerCase() : a === b;
  const prefix = cwd.endsWith("/") ? cwd : `${cwd}/`;
  if (!same(file.slice(0, prefix.length), prefix)) return null;

  return file.slice(prefix.length) || null;
}

/** Text a path check cannot look up: a NUL character or a lone UTF-16
 * surrogate, which PostgreSQL cannot compare. */
function uncheckable(path: string): boolean {
  return path.includes("\u0000") || !path.isWellFormed();
}

/** A deny when another agent holds the file the tool call edits. */
async function holdDecision(
  db: Database,
  actor: AgentActor,
  hook: HookBody,
): Promise<PolicyDecision | null> {
  const path = editedPath(hook);
  const input = { paths: [path] };
  // A path the check would refuse (too long, the root, characters it
  // cannot look up) is left to the guardrail rules rather than failing the
  // hook: the hook always answers and its event is always stored.
  if (!path || uncheckable(path)) return null;
  if (!checkPathsInput.safeParse(input).success) return null;
  let checks: Awaited<ReturnType<typeof checkPaths>>;
  try {
    checks = await checkPaths(db, actor, input);
  } catch (error) {
    if (error instanceof DomainError && error.code === "invalid_input") {
      return null;
    }
    throw error;
  }
  const [checked] = checks.paths;
  const hold = checked?.holds[0];
  if (!hold) return null;

  return {
    decision: "deny",
    rule:
      hold.kind === "task"
        ? `task:${hold.taskId}`
        : `reservation:${hold.reservationId}`,
    scope: null,
    reason:
      `${checked.path} is held by another agent: ${describeHold(hold)}. ` +
      "Edit it after the hold ends, or ask an operator",
  };
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
  let approvalId: string | undefined;
  if (hook.hook_event_name === "PreToolUse") {
    // The guardrail policy decides (kill switch, paused agent, tool,
    // command and path rules); an edit of a file another agent holds (its
    // reservation or its task's scope) is denied unless the policy already
    // denies. Claude Code shows the reason.
    const [policy, held] = await Promise.all([
      evaluate(db, {
        projectId: actor.projectId,
        agentId: actor.agentId,
        toolUse: {
          toolName: typeof hook.tool_name === "string" ? hook.tool_name : "",
          toolInput: hook.tool_input,
        },
      }),
      holdDecision(db, actor, hook),
    ]);
    let decision: PolicyDecision & { approvalId?: string } =
      policy.decision !== "deny" && held ? held : policy;
    // "ask" waits for a person in the approvals queue (bounded), then
    // answers allow or deny.
    if (decision.decision === "ask") {
      const asked = await settleAsk(db, {
        projectId: actor.projectId,
        agentId: actor.agentId,
        toolName: typeof hook.tool_name === "string" ? hook.tool_name : "",
        toolInput: hook.tool_input,
        sessionId: hook.session_id,
        cwd: typeof hook.cwd === "string" ? hook.cwd : null,
        policy: decision,
      });
      approvalId = asked.approvalId;
      decision = { ...asked.decision, approvalId };
    }
    answer = preToolUseOutput(decision);
    // An approved call says who approved it.
    if (approvalId && decision.decision === "allow") {
      answer.hookSpecificOutput.permissionDecisionReason = decision.reason;
    }
    if (decision.decision === "deny") {
      await recordGuardrailRefusal(db, actor, {
        rule: decision.rule,
        scope: decision.scope,
        reason: decision.reason,
        tool: typeof hook.tool_name === "string" ? hook.tool_name : "",
        extra: approvalId ? { approvalId } : undefined,
      });
    }
    event.status = decision.decision === "deny" ? "denied" : "ok";
    event.output =
      decision.decision === "allow"
        ? { permissionDecision: "allow" }
        : {
            permissionDecision: decision.decision,
            rule: decision.rule,
            reason: decision.reason,
          };
    if (decision.decision !== "allow" || approvalId) {
      event.attributes = { ...event.attributes, guardrail_decision: decision };
    }
  }

  const result = await storeEvents(db, actor, "claude-code", {
    items: [{ index: 0, event }],
    rejections: [],
  });

  return { answer, result, approvalId };
}
