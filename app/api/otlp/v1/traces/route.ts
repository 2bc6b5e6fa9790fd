import { z } from "zod";
import { agentRoute } from "@/server/api/http";
import { ingestOtlpTraces } from "@/server/observability/otlp";
import { jsonOnly } from "../json-only";

export const POST = jsonOnly(
  agentRoute({
    body: z.unknown(),
    maxBodyBytes: 4 * 1024 * 1024,
    handler: ({ db, actor, body }) => ingestOtlpTraces(db, actor, body),
  }),
);
