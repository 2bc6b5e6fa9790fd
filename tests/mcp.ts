import { POST as mcpRoute } from "@/app/api/mcp/route";

// Calls one MCP tool as an agent would, in process: a JSON-RPC
// tools/call to the MCP route with the agent's token.

export interface ToolResult {
  isError?: boolean;
  content: Array<{ text: string }>;
  structuredContent?: {
    error?: { details?: Array<{ path: string }> };
    alternatives?: unknown[];
  };
}

/** The tool's result, or throws when the route does not answer 200. */
export async function callTool(
  secret: string,
  name: string,
  args: Record<string, unknown>,
): Promise<ToolResult> {
  const response = await mcpRoute(
    new Request("http://test/api/mcp", {
      method: "POST",
      headers: {
        authorization: `Bearer ${secret}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name, arguments: args },
      }),
    }),
  );
  if (response.status !== 200) {
    throw new Error(`MCP route answered ${response.status}`);
  }
  const { result } = (await response.json()) as { result: ToolResult };

  return result;
}
