import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import { patchNoteSection, patchNoteSectionInput } from "@/server/context";

// Replace the body of one section, named by its heading or heading path;
// 404 when no heading matches, 409 listing the candidates when several do.
export const PATCH = agentRoute({
  body: patchNoteSectionInput.omit({ project: true, documentId: true }),
  handler: ({ db, actor, body, params }) =>
    patchNoteSection(db, actor, {
      ...body,
      project: actor.projectId,
      documentId: params.id,
    }),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { GET, HEAD, POST, PUT, DELETE, OPTIONS } = refuseOtherMethods({
  PATCH,
});
