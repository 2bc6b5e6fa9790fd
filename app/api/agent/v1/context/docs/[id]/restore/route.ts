import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import { restoreNote } from "@/server/context";

// Bring a deleted document back; 409 when it is not deleted, or when its
// topic has another canonical document by now.
export const POST = agentRoute({
  handler: ({ db, actor, params }) =>
    restoreNote(db, actor, { project: actor.projectId, documentId: params.id }),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  POST,
});
