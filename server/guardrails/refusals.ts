import type { Database } from "@/db/client";
import { DomainError } from "@/server/errors";
import type { Actor } from "@/server/identity/actor";
import { recordAudit } from "@/server/identity/audit";
import { logger } from "@/server/log";
import { recordActivity } from "@/server/observability/activity";

// Every guardrail decision that refuses an agent something lands in the
// audit log as "guardrail.refused", next to the operator actions: a tool
// call the policy denies (the PreToolUse hook), and a claim or other agent
// API call refused with 403 by the kill switch, a paused agent or goal, or
// a budget. One call is recorded once, however many layers see the error.

type AgentActor = Extract<Actor, { kind: "agent" }>;

export interface GuardrailRefusal {
  /** The rule that decided: "project.paused", "budget:<id>", ... */
  rule: string;
  /** project | goal | agent, where the rule is attached; null if none. */
  scope: string | null;
  reason: string;
  /** The tool call refused (PreToolUse). */
  tool?: string;
  /** The API call refused, e.g. "POST /api/agent/v1/tasks/claim". */
  call?: string;
  /** Anything else the decision carried (budget, goal, approval ids). */
  extra?: Record<string, unknown>;
}

// Errors already recorded, so an outer layer does not record them again.
const recorded = new WeakSet<object>();

/** Writes one "guardrail.refused" audit row. A failure to record is
 * logged, never turned into a failure of the call being refused. */
export async function recordGuardrailRefusal(
  db: Database,
  actor: AgentActor,
  refusal: GuardrailRefusal,
): Promise<void> {
  // A refused API call joins the agent's session trace; a refused tool
  // call is there already (the PreToolUse event carries the decision).
  if (refusal.tool === undefined) {
    recordActivity(db, actor, [
      {
        type: "guardrail_decision",
        name: `guardrail.refused ${refusal.call ?? ""}`.trim(),
        status: "denied",
        output: {
          rule: refusal.rule,
          scope: refusal.scope,
          reason: refusal.reason,
        },
        attributes: refusal.extra,
      },
    ]);
  }
  try {
    await recordAudit(db, actor, {
      projectId: actor.projectId,
      action: "guardrail.refused",
      targetType: "agent",
      targetId: actor.agentId,
      details: {
        rule: refusal.rule,
        scope: refusal.scope,
        reason: refusal.reason,
        ...(refusal.tool !== undefined ? { tool: refusal.tool } : {}),
        ...(refusal.call !== undefined ? { call: refusal.call } : {}),
        ...refusal.extra,
      },
    });
  } catch (error) {
    logger.error(
      { err: error, agentId: actor.agentId, rule: refusal.rule },
      "could not record a guardrail refusal",
    );
  }
}

function scopeOf(rule: string, details: Record<string, unknown>) {
  if (typeof details.scope === "string") return details.scope;
  const prefix = rule.split(/[.:]/)[0];

  return ["project", "goal", "agent"].includes(prefix) ? prefix : null;
}

/** The refusal an error stands for: a 403 that names the guardrail rule
 * that decided (access checks and token failures name none). */
export function guardrailRefusalOf(error: unknown): GuardrailRefusal | null {
  if (!(error instanceof DomainError) || error.code !== "forbidden") {
    return null;
  }
  const details = error.details;
  if (!details || Array.isArray(details) || typeof details.rule !== "string") {
    return null;
  }
  const { rule, scope: _scope, ...extra } = details as Record<string, unknown>;

  return {
    rule: rule as string,
    scope: scopeOf(rule as string, details as Record<string, unknown>),
    reason: error.message,
    extra,
  };
}

/** Records `error` when it is a guardrail's refusal of an agent's call
 * that has not been recorded yet; anything else is left alone. */
export async function recordRefusedCall(
  db: Database,
  actor: Actor | null,
  error: unknown,
  call: string,
): Promise<void> {
  if (!actor || actor.kind !== "agent") return;
  if (typeof error !== "object" || error === null || recorded.has(error)) {
    return;
  }
  const refusal = guardrailRefusalOf(error);
  if (!refusal) return;
  recorded.add(error);
  await recordGuardrailRefusal(db, actor, { ...refusal, call });
}
