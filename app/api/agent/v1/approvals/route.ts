import { z } from "zod";
import { agentRoute } from "@/server/api/http";
import {
  listApprovals,
  listApprovalsInput,
} from "@/server/guardrails/approvals";

// The agent's own approval requests, pending first: how an agent without
// Claude Code hooks finds the tool calls and budget increases it waits on.
// ?status=pending|decided|approved|denied|expired|cancelled, ?kind=, ?limit=
export const GET = agentRoute({
  query: z
    .object({
      status: listApprovalsInput.shape.status,
      kind: listApprovalsInput.shape.kind,
      limit: z.coerce
        .number({ error: "Must be a whole number" })
        .int("Must be a whole number")
        .min(1, "Must be at least 1")
        .max(200, "Must be at most 200")
        .default(50),
    })
    .strict(),
  handler: async ({ db, actor, query }) => ({
    approvals: await listApprovals(db, actor, {
      project: actor.projectId,
      ...query,
    }),
  }),
});
