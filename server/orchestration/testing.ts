import type { Database } from "@/db/client";
import { agentSessions, events } from "@/db/schema";
import { newId, now } from "@/server/runtime";

// Test helper: records spend against a goal the way ingest would, so the
// budget guardrail can be exercised without the observability pipeline.

export async function recordSpend(
  db: Database,
  input: { projectId: string; agentId: string; goalId: string; usd: number },
) {
  const at = now();
  const sessionId = newId();
  await db.insert(agentSessions).values({
    id: sessionId,
    projectId: input.projectId,
    agentId: input.agentId,
    externalId: `test-${sessionId}`,
    source: "native",
    startedAt: at,
    lastEventAt: at,
  });
  await db.insert(events).values({
    id: newId(),
    projectId: input.projectId,
    sessionId,
    agentId: input.agentId,
    goalId: input.goalId,
    eventKey: `test-${newId()}`,
    source: "native",
    type: "llm",
    name: "model call",
    occurredAt: at,
    costUsd: input.usd.toFixed(8),
    costSource: "reported",
    receivedAt: at,
  });
}
