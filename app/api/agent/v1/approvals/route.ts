import { z } from "zod";
import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import { queryInteger } from "@/server/api/query";
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
      limit: queryInteger({ min: 1, max: 200, fallback: 50 }),
    })
    .strict(),
  handler: async ({ db, actor, query }) => ({
    approvals: await listApprovals(db, actor, {
      project: actor.projectId,
      ...query,
    }),
  }),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { POST, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  GET,
});
