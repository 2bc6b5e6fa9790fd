import {
  jsonResponse,
  personRoute,
  refuseOtherMethods,
} from "@/server/api/http";
import { createAgent, createAgentInput } from "@/server/identity/agents";

// Create an agent of the project with its first token, for project admins
// with a personal access token. The secret is in this answer and never
// again; a name already taken is 409 at `name`.
export const POST = personRoute({
  body: createAgentInput.omit({ project: true }),
  handler: async ({ db, actor, body, params }) =>
    jsonResponse(
      await createAgent(db, actor, { ...body, project: params.slug }),
      201,
    ),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  POST,
});
