import { agentRoute } from "@/server/api/http";
import { agentDirectives } from "@/server/orchestration";

// The caller's directives that are not acknowledged, cancelled or expired,
// most urgent first; reading them marks them delivered.
export const GET = agentRoute({
  handler: ({ db, actor }) => agentDirectives(db, actor),
});
