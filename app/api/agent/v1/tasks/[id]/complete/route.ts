import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import { completeInput, completeTask } from "@/server/orchestration";

// Mark the task done; only the holder of a live lease may.
export const POST = agentRoute({
  body: completeInput.omit({ taskId: true }),
  handler: ({ db, actor, body, params }) =>
    completeTask(db, actor, { ...body, taskId: params.id }),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  POST,
});
