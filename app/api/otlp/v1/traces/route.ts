import { z } from "zod";
import { agentRoute } from "@/server/api/http";
import {
  OTLP_MAX_BODY_BYTES,
  otlpAnswer,
  otlpMediaTypes,
  protobufFailures,
} from "@/server/api/otlp";
import {
  decodeTraceRequest,
  encodeTraceAnswer,
} from "@/server/observability/normalize/otlp-protobuf";
import { ingestOtlpTraces } from "@/server/observability/otlp";

export const POST = protobufFailures(
  agentRoute({
    body: z.unknown(),
    mediaTypes: otlpMediaTypes(decodeTraceRequest),
    maxBodyBytes: OTLP_MAX_BODY_BYTES,
    handler: async ({ db, actor, body, request }) =>
      otlpAnswer(
        request,
        await ingestOtlpTraces(db, actor, body),
        encodeTraceAnswer,
      ),
  }),
);
