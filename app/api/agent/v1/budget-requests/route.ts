import {
  agentRoute,
  jsonResponse,
  refuseOtherMethods,
} from "@/server/api/http";
import {
  budgetRequestInput,
  requestBudgetIncrease,
} from "@/server/guardrails/approvals";

// Ask a person for more budget on a goal. Answers 201 with the pending
// approval, or 200 with the one already pending for the same amount; the
// decision comes back in the agent's notices (or GET /approvals/{id}).
export const POST = agentRoute({
  body: budgetRequestInput,
  handler: async ({ db, actor, body }) => {
    const { approval, created } = await requestBudgetIncrease(db, actor, body);

    return jsonResponse({ approval }, created ? 201 : 200);
  },
});

// Any other method: 405 with the usual error body and an Allow header.
export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  POST,
});
