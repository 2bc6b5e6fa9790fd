import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import { deleteNote, getNote } from "@/server/context";

// A document of the project with its sections, its versions and its
// topic's other documents; 403 for a paused agent.
export const GET = agentRoute({
  handler: ({ db, actor, params }) =>
    getNote(db, actor, { project: actor.projectId, documentId: params.id }),
});

// Soft-delete an agent-written document: still listed, never answered;
// 409 for a file indexed from a repository.
export const DELETE = agentRoute({
  handler: ({ db, actor, params }) =>
    deleteNote(db, actor, { project: actor.projectId, documentId: params.id }),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { POST, PUT, PATCH, OPTIONS } = refuseOtherMethods({
  GET,
  DELETE,
});
