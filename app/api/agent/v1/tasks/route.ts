import { jsonResponse, agentRoute } from "@/server/api/http";
import { createTask, createTaskInput } from "@/server/orchestration";

// Create a task under a goal of the agent's project.
export const POST = agentRoute({
  body: createTaskInput,
  handler: async ({ db, actor, body }) =>
    jsonResponse({ task: await createTask(db, actor, body) }, 201),
});
