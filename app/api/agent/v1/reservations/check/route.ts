import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import { checkPaths, checkPathsQuery } from "@/server/orchestration";

// Whether other agents hold concrete paths: ?path=src/a.ts&path=src/b.ts.
export const GET = agentRoute({
  query: checkPathsQuery,
  handler: ({ db, actor, query }) =>
    checkPaths(db, actor, { paths: query.path }),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { POST, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  GET,
});
