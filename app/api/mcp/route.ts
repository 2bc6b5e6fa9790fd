import { refuseOtherMethods } from "@/server/api/http";
import { handleMcpRequest } from "@/server/api/mcp/server";

// The MCP server for agents (Streamable HTTP, stateless): every request
// carries the agent's bearer token.
export const POST = (request: Request) => handleMcpRequest(request);

// Being stateless, the server offers no server-to-client stream (GET) and
// no session to end (DELETE); MCP clients read a 405 to either as "not
// offered". Those and any other method get the usual error body and an
// Allow header.
export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  POST,
});
