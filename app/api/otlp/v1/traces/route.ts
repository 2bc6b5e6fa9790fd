import { z } from "zod";
import { agentRoute, refuseOtherMethods } from "@/server/api/http";
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
    // An exporter's URL may carry parameters of its own; they are ignored
    // rather than losing its data.
    ignoreUnknownQuery: true,
    handler: async ({ db, actor, body, request }) =>
      otlpAnswer(
        request,
        await ingestOtlpTraces(db, actor, body),
        encodeTraceAnswer,
      ),
  }),
);

// Any other method: 405 with the usual error body and an Allow header.
export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  POST,
});
