import {
  agentRoute,
  jsonResponse,
  refuseOtherMethods,
} from "@/server/api/http";
import { writeNote, writeNoteInput } from "@/server/context";

// Store what the agent learned as the canonical document of a topic: 201
// with the document; 409 with a pointer to the topic's canonical document
// when it has one and the write does not supersede it, and when
// `supersedes` names a document of another topic.
export const POST = agentRoute({
  body: writeNoteInput.omit({ project: true }),
  handler: async ({ db, actor, body }) =>
    jsonResponse(
      await writeNote(db, actor, { ...body, project: actor.projectId }),
      201,
    ),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  POST,
});
