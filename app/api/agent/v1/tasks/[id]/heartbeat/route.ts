import { agentRoute } from "@/server/api/http";
import { heartbeat, heartbeatInput } from "@/server/orchestration";

// Extend the caller's lease on the task.
export const POST = agentRoute({
  body: heartbeatInput.omit({ taskId: true }),
  handler: ({ db, actor, body, params }) =>
    heartbeat(db, actor, { ...body, taskId: params.id }),
});
