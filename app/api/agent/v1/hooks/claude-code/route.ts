import { z } from "zod";
import { agentRoute } from "@/server/api/http";
import { receiveClaudeCodeHook } from "@/server/observability/hooks";

// Claude Code's HTTP hooks post here. The answer is what Claude Code reads:
// a permission decision for PreToolUse, an empty object otherwise.
export const POST = agentRoute({
  body: z.unknown(),
  handler: async ({ db, actor, body }) =>
    (await receiveClaudeCodeHook(db, actor, body)).answer,
});
