import { z } from "zod";
import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import {
  agentApprovalInput,
  awaitApproval,
} from "@/server/guardrails/approvals";

// One of the agent's approval requests (a tool call an "ask" rule held, a
// budget increase): its status and, once decided, who decided and why.
// ?wait=N waits up to N seconds (at most 50) while it is pending.
export const GET = agentRoute({
  query: z.object({ wait: agentApprovalInput.shape.wait }),
  handler: async ({ db, actor, params, query }) => ({
    approval: await awaitApproval(db, actor, {
      approvalId: params.id,
      wait: query.wait,
    }),
  }),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { POST, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  GET,
});
