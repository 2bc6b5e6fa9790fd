import { z } from "zod";
import { agentRoute, refuseOtherMethods } from "@/server/api/http";
import { ingestEvents } from "@/server/observability/ingest";

// Native event batches: up to 1,000 events or 1 MiB (413 beyond). The body
// is validated item by item in the domain, so one bad event is reported
// with its index instead of failing the batch.
export const POST = agentRoute({
  body: z.unknown(),
  handler: ({ db, actor, body }) => ingestEvents(db, actor, body),
});

// Any other method: 405 with the usual error body and an Allow header.
export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  POST,
});
