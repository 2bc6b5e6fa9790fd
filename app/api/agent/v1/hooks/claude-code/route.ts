import { z } from "zod";
import {
  agentRoute,
  jsonResponse,
  refuseOtherMethods,
} from "@/server/api/http";
import { receiveClaudeCodeHook } from "@/server/observability/hooks";

// Claude Code's HTTP hooks post here. The answer is what Claude Code reads:
// a permission decision for PreToolUse, an empty object otherwise. A call
// an "ask" rule holds waits for a person (up to FLOTILLA_ASK_WAIT_SECONDS);
// the approval's id is also in the x-flotilla-approval-id header, for
// GET /api/agent/v1/approvals/{id}.
const receive = agentRoute({
  body: z.unknown(),
  // A hook URL may carry a tag of the user's (?agent=builder): ignored,
  // since refusing it would deny every tool call.
  ignoreUnknownQuery: true,
  handler: async ({ db, actor, body }) => {
    const receipt = await receiveClaudeCodeHook(db, actor, body);
    if (!receipt.approvalId) return receipt.answer;

    return jsonResponse(receipt.answer, 200, {
      "x-flotilla-approval-id": receipt.approvalId,
    });
  },
});

// Claude Code treats a hook that fails (any status but 2xx) as no answer
// and runs the tool. So a PreToolUse that Flotilla cannot decide (revoked
// token, bad body, too many requests, database down) is answered 200 with
// a deny that carries the error; the original status is in
// x-flotilla-status. Every other event keeps its error status.
export const POST = Object.assign(
  async (request: Request, context: Parameters<typeof receive>[1]) => {
    const copy = request.clone();
    const response = await receive(request, context);
    if (response.ok || !(await isPreToolUse(copy))) return response;
    const failure = (await response
      .clone()
      .json()
      .catch(() => null)) as { error?: { message?: unknown } } | null;
    const message =
      typeof failure?.error?.message === "string"
        ? failure.error.message
        : `status ${response.status}`;

    return jsonResponse(
      {
        hookSpecificOutput: {
          hookEventName: "PreToolUse",
          permissionDecision: "deny",
          permissionDecisionReason: `Flotilla could not approve this call: ${message}`,
        },
      },
      200,
      { "x-flotilla-status": String(response.status) },
    );
  },
  { contract: receive.contract },
);

async function isPreToolUse(request: Request): Promise<boolean> {
  try {
    const body = (await request.json()) as { hook_event_name?: unknown };

    return body?.hook_event_name === "PreToolUse";
  } catch {
    return false;
  }
}

// Any other method: 405 with the usual error body and an Allow header.
export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  POST,
});
