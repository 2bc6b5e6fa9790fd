import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import { heartbeat, heartbeatInput } from "@/server/orchestration";

// Extend the caller's lease on the task.
export const POST = agentRoute({
  body: heartbeatInput.omit({ taskId: true }),
  handler: ({ db, actor, body, params }) =>
    heartbeat(db, actor, { ...body, taskId: params.id }),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  POST,
});
