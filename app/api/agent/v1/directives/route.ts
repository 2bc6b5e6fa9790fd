import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import { agentDirectives } from "@/server/orchestration";

// The caller's directives that are not acknowledged, cancelled or expired,
// most urgent first; reading them marks them delivered.
export const GET = agentRoute({
  handler: ({ db, actor }) => agentDirectives(db, actor),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { POST, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  GET,
});
