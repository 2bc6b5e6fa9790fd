import {
  MCP_PATH,
  resourceMetadataResponse,
} from "@/server/api/mcp/resource-metadata";

// RFC 9728 metadata for the MCP endpoint: the URL a 401 from /api/mcp
// names in its WWW-Authenticate challenge.
export const GET = (request: Request) =>
  resourceMetadataResponse(request, MCP_PATH);
