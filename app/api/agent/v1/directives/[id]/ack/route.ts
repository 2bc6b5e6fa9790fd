import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import {
  acknowledgeDirective,
  acknowledgeDirectiveInput,
} from "@/server/orchestration";

// Acknowledge a directive addressed to the caller, with an optional note.
export const POST = agentRoute({
  body: acknowledgeDirectiveInput.omit({ directiveId: true }),
  handler: ({ db, actor, body, params }) =>
    acknowledgeDirective(db, actor, { ...body, directiveId: params.id }),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  POST,
});
