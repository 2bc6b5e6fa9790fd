import { jsonResponse } from "@/server/api/http";

type Handler = (
  request: Request,
  context: { params: Promise<Record<string, string | string[]>> },
) => Promise<Response>;

// OTLP/HTTP exporters send JSON or protobuf; only JSON is read so far, so
// protobuf gets a 415 that says what to change rather than a parse error.
export function jsonOnly(handler: Handler): Handler {
  return async (request, context) => {
    const type = (request.headers.get("content-type") ?? "").toLowerCase();
    if (!type.startsWith("application/json")) {
      return jsonResponse(
        {
          error: {
            code: "unsupported_media_type",
            message:
              `Content-Type '${type || "(none)"}' is not supported: send ` +
              "OTLP as JSON (Content-Type: application/json, " +
              "OTEL_EXPORTER_OTLP_PROTOCOL=http/json)",
            details: { accepted: ["application/json"] },
          },
        },
        415,
      );
    }

    return handler(request, context);
  };
}
