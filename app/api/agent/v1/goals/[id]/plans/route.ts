import {
  agentRoute,
  jsonResponse,
  refuseOtherMethods,
} from "@/server/api/http";
import { submitPlan, submitPlanInput } from "@/server/orchestration";

// Submit a plan for the goal: its tasks with scopes, dependencies on each
// other by key, estimates and capability tags. Answers 201 with the plan,
// already approved (with task ids) when the goal needs no approval. Bad
// tasks are 400 at `tasks.N.<field>`; a cycle is 400 naming it.
export const POST = agentRoute({
  body: submitPlanInput.omit({ goalId: true }),
  maxBodyBytes: 1_000_000,
  handler: async ({ db, actor, body, params }) =>
    jsonResponse(
      { plan: await submitPlan(db, actor, { ...body, goalId: params.id }) },
      201,
    ),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  POST,
});
