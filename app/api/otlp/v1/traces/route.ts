import { z } from "zod";
import { agentRoute } from "@/server/api/http";
import { ingestOtlpTraces } from "@/server/observability/otlp";

export const POST = agentRoute({
  body: z.unknown(),
  // Protobuf is not read yet; a 415 tells the exporter what to send.
  mediaTypes: {
    accepted: ["application/json"],
    hint: "send OTLP as JSON (OTEL_EXPORTER_OTLP_PROTOCOL=http/json)",
  },
  maxBodyBytes: 4 * 1024 * 1024,
  handler: ({ db, actor, body }) => ingestOtlpTraces(db, actor, body),
});
