import { z } from "zod";
import { agentRoute } from "@/server/api/http";
import { answerQuestion } from "@/server/context";

// One section of the agent's project docs that answers `q`, or an explicit
// no-answer; both are 200, since an honest no-answer is a result.
export const GET = agentRoute({
  query: z.object({
    q: z.string().trim().min(1).max(1000),
    limit: z.coerce.number().int().min(1).max(4).optional(),
  }),
  handler: ({ db, actor, query }) =>
    answerQuestion(db, actor, { project: actor.projectId, ...query }),
});
