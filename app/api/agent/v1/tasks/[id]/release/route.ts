import { agentRoute } from "@/server/api/http";
import { releaseInput, releaseTask } from "@/server/orchestration";

// Give the task back so another agent can claim it.
export const POST = agentRoute({
  body: releaseInput.omit({ taskId: true }),
  handler: ({ db, actor, body, params }) =>
    releaseTask(db, actor, { ...body, taskId: params.id }),
});
