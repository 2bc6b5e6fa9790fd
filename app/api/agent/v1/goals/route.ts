import { z } from "zod";
import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import { goalStatuses, listGoals } from "@/server/orchestration";

// The goals of the agent's project, with task counts, spend and budget.
export const GET = agentRoute({
  query: z.object({ status: z.enum(goalStatuses).optional() }),
  handler: async ({ db, actor, query }) => ({
    goals: await listGoals(db, actor, {
      project: actor.projectId,
      status: query.status,
    }),
  }),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { POST, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  GET,
});
