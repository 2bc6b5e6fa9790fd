import { agentRoute } from "@/server/api/http";
import { claimInput, claimNextTask } from "@/server/orchestration";

// Claim the best ready task: 200 with the task and its lease, 204 when
// nothing is ready.
export const POST = agentRoute({
  body: claimInput,
  handler: async ({ db, actor, body }) => {
    const claimed = await claimNextTask(db, actor, body);

    return claimed ?? new Response(null, { status: 204 });
  },
});
