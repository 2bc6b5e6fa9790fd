import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import {
  setDependenciesInput,
  setTaskDependencies,
} from "@/server/orchestration";

// Replace what the task depends on (tasks of the same goal), before it is
// claimed: unknown tasks are 400 at `dependsOn.N`, a cycle is 400 naming it.
export const PUT = agentRoute({
  body: setDependenciesInput.omit({ taskId: true }),
  handler: async ({ db, actor, body, params }) => ({
    task: await setTaskDependencies(db, actor, { ...body, taskId: params.id }),
  }),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { GET, HEAD, POST, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  PUT,
});
