import { openApiDocument } from "@/server/api/openapi";

// The OpenAPI document is public: it describes the API, not any data.
export function GET() {
  return Response.json(openApiDocument(), {
    headers: { "cache-control": "public, max-age=300" },
  });
}
