import { resourceMetadataResponse } from "@/server/api/mcp/resource-metadata";

// RFC 9728 metadata for the console as a whole, where clients look when
// they know no more specific path.
export const GET = (request: Request) => resourceMetadataResponse(request, "");
