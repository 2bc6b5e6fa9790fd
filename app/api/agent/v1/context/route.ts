import { z } from "zod";
import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import { queryInteger } from "@/server/api/query";
import {
  answerQuestion,
  answerQuestionInput,
  contextTiers,
} from "@/server/context";

// `limit` takes the range answerQuestion declares, read from its schema so
// this route and the MCP tool (which uses that schema as it is) agree.
const limitRange = answerQuestionInput.shape.limit.unwrap();

// One section of the agent's project docs that answers `q`, or an explicit
// no-answer; both are 200, since an honest no-answer is a result.
// `include_stale=true` lets stale and duplicate documents answer (the
// answer then carries their status and reason); `source=` picks a source;
// `tier=pointer|section|document` says how much text comes back.
export const GET = agentRoute({
  query: z.object({
    q: z
      .string({ error: "Required: the question to answer" })
      .trim()
      .min(1, "Must not be empty: the question to answer")
      .max(1000, "Must be at most 1000 characters"),
    limit: queryInteger({
      min: limitRange.minValue ?? Number.MIN_SAFE_INTEGER,
      max: limitRange.maxValue ?? Number.MAX_SAFE_INTEGER,
    }).optional(),
    source: z.string().trim().min(1).max(100).optional(),
    include_stale: z
      .enum(["true", "false", "1", "0"])
      .transform((value) => value === "true" || value === "1")
      .optional(),
    tier: z.enum(contextTiers).optional(),
  }),
  handler: ({ db, actor, query }) =>
    answerQuestion(db, actor, {
      project: actor.projectId,
      q: query.q,
      limit: query.limit,
      source: query.source,
      includeStale: query.include_stale,
      tier: query.tier,
    }),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { POST, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  GET,
});
