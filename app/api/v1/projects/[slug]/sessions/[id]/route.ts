import { z } from "zod";
import { personRoute } from "@/server/api/http";
import { getSession } from "@/server/observability/sessions";

const query = z.object({
  limit: z.coerce.number().int().min(1).max(20_000).optional(),
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
