import { encodeFailure } from "@/server/observability/normalize/otlp-protobuf";
import type { MediaTypes, RouteContract } from "./http";

// OTLP/HTTP transport: a request comes as protobuf or JSON, gzip or not,
// and is answered in the encoding it came in, failures included (OTLP has
// a protobuf failure body, google.rpc.Status, carrying the message).

export const OTLP_MAX_BODY_BYTES = 4 * 1024 * 1024;

const PROTOBUF = "application/x-protobuf";

/** The OTLP media types: protobuf, read by `decode`, and JSON. */
export function otlpMediaTypes(decode: (body: Buffer) => unknown): MediaTypes {
  return {
    accepted: [PROTOBUF, "application/json"],
    hint:
      "send OTLP as protobuf (application/x-protobuf) or JSON " +
      "(application/json)",
    decoders: { [PROTOBUF]: decode },
  };
}

function sentProtobuf(request: Request): boolean {
  const type = (request.headers.get("content-type") ?? "").split(";")[0];

  return type.trim().toLowerCase() === PROTOBUF;
}

/** The export answer in the request's encoding. */
export function otlpAnswer<T extends object>(
  request: Request,
  answer: T,
  encode: (answer: T) => Uint8Array,
): Response | T {
  if (!sentProtobuf(request)) return answer;

  return new Response(Buffer.from(encode(answer)), {
    headers: { "content-type": PROTOBUF },
  });
}

type Handler = ((
  request: Request,
  context: { params: Promise<Record<string, string | string[]>> },
) => Promise<Response>) & { contract: RouteContract };

/** Re-encodes a failure to a protobuf request as a google.rpc.Status with
 * the same message, status and headers (Retry-After). */
export function protobufFailures(route: Handler): Handler {
  const handle: Handler = Object.assign(
    async (
      request: Request,
      context: { params: Promise<Record<string, string | string[]>> },
    ) => {
      const response = await route(request, context);
      if (response.status < 400 || !sentProtobuf(request)) return response;
      // Every failure agentRoute writes is a JSON error body.
      const failure = (await response.json().catch(() => ({}))) as {
        error?: { message?: string };
      };
      const headers = new Headers(response.headers);
      headers.set("content-type", PROTOBUF);
      headers.delete("content-length");

      return new Response(
        Buffer.from(encodeFailure(failure.error?.message ?? "Request failed")),
        { status: response.status, headers },
      );
    },
    { contract: route.contract },
  );

  return handle;
}
