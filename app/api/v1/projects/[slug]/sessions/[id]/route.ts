import { z } from "zod";
import { personRoute, refuseOtherMethods } from "@/server/api/http";
import { queryInteger } from "@/server/api/query";
import { getSession } from "@/server/observability/sessions";

const query = z.object({
  limit: queryInteger({ min: 1, max: 20_000 }).optional(),
});

// One session with its events, for people with a personal access token.
// The id is Flotilla's session id or the one the client used.
export const GET = personRoute({
  query,
  handler: ({ db, actor, params, query }) =>
    getSession(db, actor, {
      project: params.slug,
      sessionId: params.id,
      limit: query.limit,
    }),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { POST, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  GET,
});
