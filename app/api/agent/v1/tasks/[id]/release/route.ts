import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import { releaseInput, releaseTask } from "@/server/orchestration";

// Give the task back so another agent can claim it.
export const POST = agentRoute({
  body: releaseInput.omit({ taskId: true }),
  handler: ({ db, actor, body, params }) =>
    releaseTask(db, actor, { ...body, taskId: params.id }),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  POST,
});
