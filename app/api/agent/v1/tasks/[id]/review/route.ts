import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import { requestReview, requestReviewInput } from "@/server/orchestration";

// Hand the held task in for an operator's review (in_review); the lease
// ends. The operator accepts it (done) or sends it back (ready).
export const POST = agentRoute({
  body: requestReviewInput.omit({ taskId: true }),
  handler: ({ db, actor, body, params }) =>
    requestReview(db, actor, { ...body, taskId: params.id }),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  POST,
});
