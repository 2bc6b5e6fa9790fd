import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { Database } from "@/db/client";
import { getDatabase } from "@/db/runtime";
import { classifyFailure, DomainError } from "@/server/errors";
import { recordRefusedCall } from "@/server/guardrails/refusals";
import { authenticateAgent } from "@/server/identity/tokens";
import { logger } from "@/server/log";
import { DEFAULT_MAX_BODY_BYTES, toErrorResponse } from "../http";
import { refuseRepeatedParameters } from "../query";
import { takeRequestToken } from "../rate-limit";
import { mcpResourceMetadataUrl } from "./resource-metadata";
import { findTool, listedTools, type AgentActor } from "./tools";

// The MCP server at /api/mcp, over Streamable HTTP. It is stateless: each
// HTTP request gets a fresh server and transport, authenticated by the
// agent's bearer token, so any app instance can answer any request and
// nothing is kept between them.

const SERVER_INFO = { name: "flotilla", version: "0.1.0" };

// The query parameters the MCP URL takes, each once: the tool groups to
// list. Other parameters pass unread, since MCP clients may add their own.
const MCP_QUERY = z.object({ tools: z.string().optional() });

const INSTRUCTIONS =
  "Flotilla coordinates your work: task_claim a task, task_heartbeat " +
  "while working, then task_complete or task_fail. Ask context_answer " +
  "before reading project docs. more_tools lists the rest (plans, " +
  "reservations, directives, budget, events); use_tool calls them.";

/** A tool failure as the client sees it: the code and message of the HTTP
 * API's error body, as text for the model and as structured content. */
function toolError(error: unknown, tool: string): CallToolResult {
  let known = classifyFailure(error);
  if (!known) {
    logger.error({ err: error, tool }, "mcp tool failed");
    known = new DomainError("internal", "Internal error");
  } else if (known.code === "unavailable") {
    logger.error({ err: error, tool }, "database unavailable");
  }
  const body = {
    code: known.code,
    message: known.message,
    details: known.details ?? null,
  };

  return {
    content: [{ type: "text", text: `${known.code}: ${known.message}` }],
    structuredContent: { error: body },
    isError: true,
  };
}

function buildServer(
  db: Database,
  actor: AgentActor,
  calls: string[],
  selection: string | null,
) {
  const mcp = new McpServer(SERVER_INFO, {
    capabilities: { tools: {} },
    instructions: INSTRUCTIONS,
  });
  // Tools are listed and called through the low-level handlers so that
  // arguments are validated by the domain's own schemas, and a bad one gets
  // the same invalid_input message as over HTTP rather than the SDK's.
  mcp.server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: listedTools(selection).map(({ name, description, inputSchema }) => ({
      name,
      description,
      inputSchema,
    })),
  }));
  mcp.server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const { name, arguments: args } = request.params;
    const tool = findTool(name);
    if (!tool) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `Unknown tool ${name}; list the tools to see what exists`,
      );
    }
    calls.push(name);
    try {
      const text = await tool.call(db, actor, args ?? {});

      return { content: [{ type: "text", text }] };
    } catch (error) {
      await recordRefusedCall(db, actor, error, `mcp ${name}`);

      return toolError(error, name);
    }
  });

  return mcp;
}

/** 401 answers carry a Bearer challenge (RFC 6750) naming the resource
 * metadata (RFC 9728), as MCP clients expect; header values must be plain
 * ASCII, so the description is reduced to it. */
function challenge(request: Request, error: DomainError): string {
  const metadata = `resource_metadata="${mcpResourceMetadataUrl(request)}"`;
  if (!request.headers.get("authorization")) {
    return `Bearer realm="flotilla", ${metadata}`;
  }
  const description = error.message
    .replace(/[^\x20-\x7e]/g, "")
    .replaceAll('"', "'");

  return (
    `Bearer realm="flotilla", ${metadata}, error="invalid_token", ` +
    `error_description="${description}"`
  );
}

function failureResponse(request: Request, error: unknown): Response {
  const response = toErrorResponse(error);
  if (response.status === 401 && error instanceof DomainError) {
    response.headers.set("www-authenticate", challenge(request, error));
  }
  if (response.status === 429 && error instanceof DomainError) {
    const details = error.details as { retryAfterSeconds: number };
    response.headers.set("retry-after", String(details.retryAfterSeconds));
  }

  return response;
}

async function serve(
  db: Database,
  actor: AgentActor,
  request: Request,
  calls: string[],
): Promise<Response> {
  // ?tools=all (or ?tools=plans,reservations) lists more than the core.
  const url = new URL(request.url);
  refuseRepeatedParameters(url, MCP_QUERY);
  const selection = url.searchParams.get("tools");
  const mcp = buildServer(db, actor, calls, selection);
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    // One JSON answer per POST: nothing streams, and the request is over
    // when the response is, so the server can be closed right after.
    enableJsonResponse: true,
    maxRequestBodySize: DEFAULT_MAX_BODY_BYTES,
  });
  await mcp.connect(transport);
  try {
    return await transport.handleRequest(request);
  } finally {
    await mcp.close();
  }
}

/** Handles one MCP POST. */
export async function handleMcpRequest(request: Request): Promise<Response> {
  const started = performance.now();
  const calls: string[] = [];
  let actor: AgentActor | null = null;
  let response: Response;
  try {
    const { db } = await getDatabase();
    actor = await authenticateAgent(db, request.headers.get("authorization"));
    const limited = takeRequestToken(actor.tokenId);
    if (limited) {
      throw new DomainError(
        "rate_limited",
        `Too many requests; retry in ${limited.retryAfterSeconds} s`,
        { retryAfterSeconds: limited.retryAfterSeconds },
      );
    }
    response = await serve(db, actor, request, calls);
  } catch (error) {
    response = failureResponse(request, error);
  }
  const fields = {
    method: request.method,
    route: new URL(request.url).pathname,
    status: response.status,
    durationMs: Math.round(performance.now() - started),
    ...(actor ? { actor: `agent:${actor.agentId}` } : {}),
    ...(calls.length > 0 ? { tools: calls } : {}),
  };
  if (response.status >= 500) logger.error(fields, "request");
  else if (response.status >= 400) logger.warn(fields, "request");
  else logger.info(fields, "request");

  return response;
}
