import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import {
  renewReservation,
  renewReservationInput,
} from "@/server/orchestration";

// Extend the caller's live reservation; 409 when it is another agent's,
// released or expired.
export const POST = agentRoute({
  body: renewReservationInput.omit({ reservationId: true }),
  handler: ({ db, actor, body, params }) =>
    renewReservation(db, actor, { ...body, reservationId: params.id }),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  POST,
});
