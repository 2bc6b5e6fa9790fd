import {
  jsonResponse,
  personRoute,
  refuseOtherMethods,
} from "@/server/api/http";
import { createGoal, createGoalInput } from "@/server/orchestration";

// Create a goal of the project, for operators with a personal access token.
// Plans for it wait for approval unless requiresPlanApproval is false.
export const POST = personRoute({
  body: createGoalInput.omit({ project: true }),
  handler: async ({ db, actor, body, params }) =>
    jsonResponse(
      { goal: await createGoal(db, actor, { ...body, project: params.slug }) },
      201,
    ),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  POST,
});
