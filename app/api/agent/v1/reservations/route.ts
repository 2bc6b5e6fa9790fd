import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import {
  listMyReservations,
  reserveInput,
  reservePaths,
} from "@/server/orchestration";

// Reserve path globs: 200 either way, with granted: true and the
// reservation, or granted: false and the conflicting holds with their
// holders (nothing is reserved then).
export const POST = agentRoute({
  body: reserveInput,
  handler: ({ db, actor, body }) => reservePaths(db, actor, body),
});

// The calling agent's live reservations.
export const GET = agentRoute({
  handler: ({ db, actor }) => listMyReservations(db, actor),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  POST,
  GET,
});
