import { handleMcpRequest, methodNotAllowed } from "@/server/api/mcp/server";

// The MCP server for agents (Streamable HTTP, stateless): every request
// carries the agent's bearer token.
export const POST = (request: Request) => handleMcpRequest(request);
export const GET = () => methodNotAllowed();
export const DELETE = () => methodNotAllowed();
