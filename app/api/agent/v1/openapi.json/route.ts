import { refuseOtherMethods } from "@/server/api/http";
import { openApiDocument } from "@/server/api/openapi";

// The OpenAPI document is public: it describes the API, not any data.
export function GET() {
  return Response.json(openApiDocument(), {
    headers: { "cache-control": "public, max-age=300" },
  });
}

// Any other method: 405 with the usual error body and an Allow header.
export const { POST, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  GET,
});
