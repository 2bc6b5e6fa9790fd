import { z } from "zod";
import { agentRoute } from "@/server/api/http";
import { ingestOtlpLogs } from "@/server/observability/otlp";
import { jsonOnly } from "../json-only";

export const POST = jsonOnly(
  agentRoute({
    body: z.unknown(),
    maxBodyBytes: 4 * 1024 * 1024,
    handler: ({ db, actor, body }) => ingestOtlpLogs(db, actor, body),
  }),
);
