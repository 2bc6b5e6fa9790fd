import { z } from "zod";
import { agentRoute, jsonResponse } from "@/server/api/http";
import { receiveClaudeCodeHook } from "@/server/observability/hooks";

// Claude Code's HTTP hooks post here. The answer is what Claude Code reads:
// a permission decision for PreToolUse, an empty object otherwise. A call
// an "ask" rule holds waits for a person (up to FLOTILLA_ASK_WAIT_SECONDS);
// the approval's id is also in the x-flotilla-approval-id header, for
// GET /api/agent/v1/approvals/{id}.
export const POST = agentRoute({
  body: z.unknown(),
  handler: async ({ db, actor, body }) => {
    const receipt = await receiveClaudeCodeHook(db, actor, body);
    if (!receipt.approvalId) return receipt.answer;

    return jsonResponse(receipt.answer, 200, {
      "x-flotilla-approval-id": receipt.approvalId,
    });
  },
});
