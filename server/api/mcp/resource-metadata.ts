// OAuth 2.0 Protected Resource Metadata (RFC 9728) for the MCP endpoint.
// MCP clients read it after a 401 (the challenge names its URL) or at the
// well-known path, to learn what the resource is and how to present a
// token. Flotilla issues agent tokens itself (console or CLI) and runs no
// OAuth authorization server, so the document lists none: a client is
// configured with the token, and the metadata tells it to send it in the
// Authorization header.

export const MCP_PATH = "/api/mcp";
export const RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource";

export interface ProtectedResourceMetadata {
  resource: string;
  resource_name: string;
  bearer_methods_supported: string[];
  resource_documentation: string;
}

// A host as it may appear in a URL; anything else in a header is ignored
// rather than echoed into a challenge.
const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

function firstValue(request: Request, name: string): string | null {
  return request.headers.get(name)?.split(",")[0].trim() || null;
}

/** The console's public base URL: FLOTILLA_BASE_URL (checked at start-up
 * by server/config) when set, else the host the client dialed (a proxy's
 * forwarded host first). The metadata must name the URL the client used,
 * and Next.js may rewrite the host in request.url. */
export function publicBase(request: Request): string {
  const configured = process.env.FLOTILLA_BASE_URL?.trim();
  if (configured) return configured.replace(/\/+$/, "");
  const url = new URL(request.url);
  const host =
    firstValue(request, "x-forwarded-host") ?? firstValue(request, "host");
  const forwarded = firstValue(request, "x-forwarded-proto");
  const protocol =
    forwarded === "http" || forwarded === "https"
      ? forwarded
      : url.protocol.slice(0, -1);

  return host && HOST.test(host) ? `${protocol}://${host}` : url.origin;
}

/** Where the metadata of `resource` lives: the well-known path inserted
 * between the host and the resource's path (RFC 9728 section 3.1). */
export function metadataUrlFor(resource: string): string {
  const url = new URL(resource);
  const suffix = url.pathname === "/" ? "" : url.pathname.replace(/\/+$/, "");

  return `${url.origin}${RESOURCE_METADATA_PATH}${suffix}`;
}

/** The absolute URL a 401 from /api/mcp points clients at. */
export function mcpResourceMetadataUrl(request: Request): string {
  return metadataUrlFor(`${publicBase(request)}${MCP_PATH}`);
}

/** The document for the resource at `path` ("" is the whole console). Its
 * `resource` is the identifier the well-known URL was formed from, as
 * RFC 9728 section 3.3 requires clients to check. */
export function protectedResourceMetadata(
  request: Request,
  path: string,
): ProtectedResourceMetadata {
  const base = publicBase(request);

  return {
    resource: path === "" ? new URL(base).origin : `${base}${path}`,
    resource_name: "Flotilla",
    bearer_methods_supported: ["header"],
    resource_documentation: `${base}/api-reference`,
  };
}

/** The metadata as an HTTP answer. Any origin may read it: it is public,
 * and browser-based MCP clients fetch it across origins. */
export function resourceMetadataResponse(
  request: Request,
  path: string,
): Response {
  return Response.json(protectedResourceMetadata(request, path), {
    headers: {
      "cache-control": "public, max-age=3600",
      "access-control-allow-origin": "*",
    },
  });
}
