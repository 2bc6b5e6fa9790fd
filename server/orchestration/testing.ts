import type { Database } from "@/db/client";
import { agentSessions, events } from "@/db/schema";
import { ensureEventPartitions } from "@/server/observability/partitions";
import { addToRollups } from "@/server/observability/rollups";
import { newId, now } from "@/server/runtime";

// Test helper: records spend against a goal the way ingest would, so the
// budget guardrail can be exercised without the observability pipeline:
// the event and its hourly rollup, with the cost and, if given, tokens.

export async function recordSpend(
  db: Database,
  input: {
    projectId: string;
    agentId: string;
    goalId: string | null;
    usd: number;
    tokens?: number;
    at?: Date;
  },
) {
  const at = input.at ?? now();
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
  await ensureEventPartitions(db, [at]);
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
    inputTokens: input.tokens ?? null,
    receivedAt: at,
  });
  await addToRollups(db, [
    {
      projectId: input.projectId,
      agentId: input.agentId,
      occurredAt: at,
      model: null,
      goalId: input.goalId,
      taskId: null,
      costUsd: input.usd.toFixed(8),
      costSource: "reported",
      inputTokens: input.tokens ?? null,
      outputTokens: null,
      cacheReadTokens: null,
      cacheWrite5mTokens: null,
      cacheWrite1hTokens: null,
    },
  ]);
}
