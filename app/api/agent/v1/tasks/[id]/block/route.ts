import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import { blockTask, blockTaskInput } from "@/server/orchestration";

// The holder blocks its task on a conflict: the task moves to blocked, the
// lease ends and operators get an escalation to resolve.
export const POST = agentRoute({
  body: blockTaskInput.omit({ taskId: true }),
  handler: ({ db, actor, body, params }) =>
    blockTask(db, actor, { ...body, taskId: params.id }),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  POST,
});
