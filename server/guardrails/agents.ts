import { eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { agents } from "@/db/schema";
import { forbidden } from "@/server/errors";

export type Decision =
  { allowed: true } | { allowed: false; rule: string; reason: string };

/** Whether an agent may act at all: a paused agent may not. */
export async function agentActivityDecision(
  db: Database,
  agentId: string,
): Promise<Decision> {
  const [agent] = await db
    .select({
      name: agents.name,
      status: agents.status,
      reason: agents.pausedReason,
    })
    .from(agents)
    .where(eq(agents.id, agentId))
    .limit(1);
  if (!agent) {
    return { allowed: false, rule: "agent.exists", reason: "Unknown agent" };
  }
  if (agent.status === "paused") {
    return {
      allowed: false,
      rule: "agent.paused",
      reason:
        `Agent ${agent.name} is paused by an operator` +
        (agent.reason ? `: ${agent.reason}` : ""),
    };
  }

  return { allowed: true };
}

/** Throws 403 when the agent is paused. */
export async function assertAgentActive(db: Database, agentId: string) {
  const decision = await agentActivityDecision(db, agentId);
  if (!decision.allowed) {
    throw forbidden(decision.reason, { rule: decision.rule });
  }
}
