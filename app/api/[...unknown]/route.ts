import { errorResponse } from "@/server/api/http";
import { DomainError } from "@/server/errors";

// Any API path no route answers: a JSON 404 in the usual error shape, so
// clients (an OTLP exporter sending metrics, say) never get an HTML page.
function notFound(request: Request) {
  const { pathname } = new URL(request.url);

  return errorResponse(
    new DomainError(
      "not_found",
      `No API endpoint at ${request.method} ${pathname}`,
    ),
  );
}

export {
  notFound as GET,
  notFound as POST,
  notFound as PUT,
  notFound as PATCH,
  notFound as DELETE,
};
