import http from "node:http";

// Requests whose method no route file can export, answered before Next.js
// sees them. Next.js only routes the methods below; for TRACE it fails
// with a 500 (a fetch Request cannot carry that method, and Next.js builds
// one for proxy.ts and route handlers alike), and for the others Node
// accepts (PROPFIND, PURGE, QUERY, ...) a route handler answers an empty
// 400. Here
// they get what refuseOtherMethods (server/api/http.ts) gives a method a
// route does not define: 405 in the API's error body with an Allow header.

/** The methods a route file can export. */
export const ROUTE_METHODS = [
  "DELETE",
  "GET",
  "HEAD",
  "OPTIONS",
  "PATCH",
  "POST",
  "PUT",
];

/** What a page takes: GET and HEAD, and POST for server actions. */
export const PAGE_METHODS = ["GET", "HEAD", "POST"];

const PROBE_TIMEOUT_MS = 5_000;

/** The methods the route at `pathname` takes, from the Allow header of
 * its OPTIONS answer (every route handler gives one), asked of the server
 * on the address the request came in on; null when it gives none. */
export function probeAllowedMethods(socket, pathname) {
  return new Promise((resolve) => {
    const probe = http.request(
      {
        host: socket.localAddress,
        port: socket.localPort,
        method: "OPTIONS",
        path: pathname,
        timeout: PROBE_TIMEOUT_MS,
      },
      (response) => {
        response.resume();
        const allow = response.headers.allow;
        resolve(response.statusCode === 204 && allow ? allow : null);
      },
    );
    probe.on("timeout", () => probe.destroy());
    probe.on("error", () => resolve(null));
    probe.end();
  });
}

/** The API's error body for a method the target does not take. */
function refusal(method, target, allow) {
  return JSON.stringify({
    error: {
      code: "method_not_allowed",
      message:
        `${method} is not allowed on ${target}; it takes ` + allow.join(", "),
      details: { allow },
    },
  });
}

/** Answers CONNECT (Node hands it over as a raw socket, not a request):
 * the console is no tunnel, so it gets the answer a page gives. */
export function refuseTunnel({ logger }) {
  return (request, socket) => {
    const body = refusal(request.method, request.url ?? "", PAGE_METHODS);
    socket.end(
      "HTTP/1.1 405 Method Not Allowed\r\n" +
        `allow: ${PAGE_METHODS.join(", ")}\r\n` +
        "content-type: application/json\r\n" +
        `content-length: ${Buffer.byteLength(body)}\r\n` +
        "connection: close\r\n\r\n" +
        body,
    );
    logger?.warn(
      { method: request.method, route: request.url, status: 405 },
      "request",
    );
  };
}

/** Wraps a request handler so that a method no route can take is refused
 * before it; `allowedMethods` finds what the asked path takes. */
export function refuseUnroutableMethods(
  handler,
  { logger, allowedMethods = probeAllowedMethods },
) {
  return async (request, response) => {
    if (ROUTE_METHODS.includes(request.method)) {
      return handler(request, response);
    }
    request.resume();
    const { pathname } = new URL(request.url ?? "/", "http://flotilla");
    const probed = await allowedMethods(request.socket, pathname);
    const allow = (probed ?? PAGE_METHODS.join(", "))
      .split(",")
      .map((method) => method.trim())
      .filter(Boolean)
      .sort();
    const body = refusal(request.method, pathname, allow);
    response.writeHead(405, {
      allow: allow.join(", "),
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    response.end(body);
    logger?.warn(
      { method: request.method, route: pathname, status: 405 },
      "request",
    );
  };
}
