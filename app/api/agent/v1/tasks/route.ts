import {
  jsonResponse,
  agentRoute,
  refuseOtherMethods,
} from "@/server/api/http";
import { createTask, createTaskInput } from "@/server/orchestration";

// Create a task under a goal of the agent's project.
export const POST = agentRoute({
  body: createTaskInput,
  handler: async ({ db, actor, body }) =>
    jsonResponse({ task: await createTask(db, actor, body) }, 201),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  POST,
});
