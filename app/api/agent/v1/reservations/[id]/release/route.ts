import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import {
  releaseReservation,
  releaseReservationInput,
} from "@/server/orchestration";

// End the caller's live reservation; 409 when it is another agent's,
// already released or expired.
export const POST = agentRoute({
  body: releaseReservationInput.omit({ reservationId: true }),
  handler: ({ db, actor, params }) =>
    releaseReservation(db, actor, { reservationId: params.id }),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  POST,
});
