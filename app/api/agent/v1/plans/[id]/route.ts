import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import { getPlan } from "@/server/orchestration";

// A plan as the agent polls it: status, the reviewer's comment and, once
// approved, the ids of the tasks it created.
export const GET = agentRoute({
  handler: async ({ db, actor, params }) => ({
    plan: await getPlan(db, actor, { planId: params.id }),
  }),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { POST, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  GET,
});
