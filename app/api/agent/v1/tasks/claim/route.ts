import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import { claimInput, claimTasks } from "@/server/orchestration";

// Claim the best ready task, or up to `count` of them: always 200. `task`
// and `lease` are the first claim (null when nothing could be claimed),
// `claimed` lists every claim, and `skipped` says why ready tasks were not
// claimable when nothing was.
export const POST = agentRoute({
  body: claimInput,
  handler: async ({ db, actor, body }) => {
    const result = await claimTasks(db, actor, body);
    const first = result.claimed[0];

    return {
      task: first?.task ?? null,
      lease: first?.lease ?? null,
      ...result,
    };
  },
});

// Any other method: 405 with the usual error body and an Allow header.
export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  POST,
});
