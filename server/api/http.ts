import zlib from "node:zlib";
import { z, type ZodType } from "zod";
import type { Database } from "@/db/client";
import { getDatabase } from "@/db/runtime";
import { classifyFailure, DomainError, errorTable } from "@/server/errors";
import { recordRefusedCall } from "@/server/guardrails/refusals";
import { parseInput } from "@/server/input";
import { logger } from "@/server/log";
import type { Actor } from "@/server/identity/actor";
import {
  authenticateAgent,
  authenticatePerson,
} from "@/server/identity/tokens";
import {
  queryNames,
  refuseRepeatedParameters,
  refuseUnknownParameters,
} from "./query";
import { takeRequestToken } from "./rate-limit";

// The HTTP transport for agents and people with tokens. A route declares
// its input schemas and one handler that calls one domain function; this
// module authenticates, parses, validates, maps errors and logs the request.

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

type RouteParams = Promise<Record<string, string | string[]>>;

export interface RouteContext<A extends Actor, B, Q> {
  db: Database;
  actor: A;
  body: B;
  query: Q;
  params: Record<string, string>;
  request: Request;
}

interface RouteOptions<
  A extends Actor,
  BS extends ZodType,
  QS extends z.ZodObject,
> {
  body?: BS;
  query?: QS;
  maxBodyBytes?: number;
  /** Content types the body may have, and what to tell a client that
   * sends another; absent means any body is read as JSON (so `curl -d`
   * without a header works). */
  mediaTypes?: MediaTypes;
  /** Lets query parameters the route does not take pass unread. Only for
   * ingest URLs set once in another tool (a Claude Code hook, an OTLP
   * exporter) that may carry a tag or cache-buster of its own: refusing
   * them would drop every event that tool sends. */
  ignoreUnknownQuery?: boolean;
  handler: (
    ctx: RouteContext<A, z.infer<BS>, z.infer<QS>>,
  ) => Promise<Response | object>;
}

export function jsonResponse(
  data: unknown,
  status = 200,
  headers?: HeadersInit,
) {
  return Response.json(data, { status, headers });
}

export function errorResponse(error: DomainError, headers?: HeadersInit) {
  return jsonResponse(
    {
      error: {
        code: error.code,
        message: error.message,
        details: error.details ?? null,
      },
    },
    error.status,
    headers,
  );
}

/** `size` says how big the body is: "5000 bytes", "over 200 bytes when
 * decompressed". */
function tooLarge(size: string, maxBytes: number) {
  return new DomainError(
    "payload_too_large",
    `Request body is ${size}; the limit is ${maxBytes} bytes`,
    { limit: maxBytes },
  );
}

/** Undoes a gzip or deflate Content-Encoding, refusing bodies that
 * inflate past the limit. */
function decodeBody(request: Request, raw: Buffer, maxBytes: number): Buffer {
  const encoding = (request.headers.get("content-encoding") ?? "identity")
    .trim()
    .toLowerCase();
  if (encoding === "identity" || encoding === "") return raw;
  const inflate =
    encoding === "gzip" || encoding === "x-gzip"
      ? zlib.gunzipSync
      : encoding === "deflate"
        ? zlib.inflateSync
        : null;
  if (!inflate) {
    throw new DomainError(
      "unsupported_media_type",
      `Content-Encoding '${encoding}' is not supported; send gzip, deflate ` +
        "or an uncompressed body",
      { accepted: ["gzip", "deflate", "identity"] },
    );
  }
  try {
    return inflate(raw, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw tooLarge(`over ${maxBytes} bytes when decompressed`, maxBytes);
    }
    throw new DomainError(
      "invalid_input",
      `Request body is not valid ${encoding} data`,
      [{ path: "(body)", message: `not valid ${encoding}` }],
    );
  }
}

/** Content types a route accepts. A type with a decoder is read by it
 * (after any Content-Encoding is undone, an empty body included); any
 * other accepted type is read as JSON. */
export interface MediaTypes {
  accepted: string[];
  hint: string;
  decoders?: Record<string, (body: Buffer) => unknown>;
}

function mediaTypeOf(request: Request): string {
  return (request.headers.get("content-type") ?? "")
    .split(";")[0]
    .trim()
    .toLowerCase();
}

async function readBody(
  request: Request,
  maxBytes: number,
  decoders: MediaTypes["decoders"],
) {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(`${declared} bytes`, maxBytes);
  const raw = await readRaw(request);
  if (raw.byteLength > maxBytes)
    throw tooLarge(`${raw.byteLength} bytes`, maxBytes);
  const decoder = decoders?.[mediaTypeOf(request)];
  if (decoder) return decoder(decodeBody(request, raw, maxBytes));
  if (raw.byteLength === 0) return undefined;
  const text = decodeBody(request, raw, maxBytes).toString("utf8");
  try {
    // Some Windows tools start UTF-8 with a byte-order mark; JSON.parse
    // refuses it, so one leading mark is dropped (as fetch's json() does).
    return JSON.parse(text.startsWith("\uFEFF") ? text.slice(1) : text);
  } catch (error) {
    throw new DomainError(
      "invalid_input",
      `Request body is not valid JSON: ${(error as Error).message.slice(0, 200)}`,
      [{ path: "(body)", message: "not valid JSON" }],
    );
  }
}

/** The request body as sent. A body that breaks off mid-way means the
 * client hung up (Node reports that as ECONNRESET, which would otherwise
 * read as the database being unreachable). */
async function readRaw(request: Request): Promise<Buffer> {
  // Reading a body twice is our own fault, not the client's.
  const alreadyRead = request.bodyUsed;
  try {
    return Buffer.from(await request.arrayBuffer());
  } catch (error) {
    throw alreadyRead ? error : clientClosed(error);
  }
}

function clientClosed(cause: unknown) {
  return Object.assign(
    new DomainError(
      "client_closed",
      "The client closed the connection before the request was answered",
    ),
    { cause },
  );
}

// Path parameters reach SQL as text; NUL cannot be stored or compared.
const pathParams = z.record(z.string(), z.string());

function assertMediaType(request: Request, { accepted, hint }: MediaTypes) {
  const type = mediaTypeOf(request);
  if (!accepted.includes(type)) {
    throw new DomainError(
      "unsupported_media_type",
      `Content-Type '${type || "(none)"}' is not supported: ${hint}`,
      { accepted },
    );
  }
}

function queryObject(url: URL): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const all = url.searchParams.getAll(key);
    out[key] = all.length === 1 ? all[0] : all;
  }

  return out;
}

/** Maps anything thrown to a response; our own faults are logged as errors
 * and their details are not shown. */
export function toErrorResponse(error: unknown): Response {
  const known = classifyFailure(error);
  if (known) {
    if (known.code === "unavailable") {
      logger.error({ err: error }, "database unavailable");

      return errorResponse(known, { "retry-after": "5" });
    }

    return errorResponse(known);
  }
  logger.error({ err: error }, "unhandled error");

  return errorResponse(new DomainError("internal", "Internal error"));
}

/** What a route validates, kept on its handler so the OpenAPI document is
 * generated from the very schemas that check requests. */
export interface RouteContract {
  auth: "agent" | "person";
  body?: ZodType;
  query?: z.ZodObject;
  mediaTypes?: MediaTypes;
}

function makeRoute<A extends Actor>(
  kind: RouteContract["auth"],
  authenticate: (db: Database, header: string | null) => Promise<A>,
) {
  return function route<
    BS extends ZodType = ZodType<undefined>,
    QS extends z.ZodObject = z.ZodObject<Record<string, never>>,
  >(options: RouteOptions<A, BS, QS>) {
    const acceptedQuery = queryNames(options.query);
    const handle = async (
      request: Request,
      context: { params: RouteParams },
    ): Promise<Response> => {
      const started = performance.now();
      const url = new URL(request.url);
      let actor: A | null = null;
      let response: Response;
      try {
        const { db } = await getDatabase();
        actor = await authenticate(db, request.headers.get("authorization"));
        const sessionHint = request.headers.get("x-flotilla-session");
        if (actor.kind === "agent" && sessionHint) {
          actor = { ...actor, sessionHint };
        }
        const limited = takeRequestToken(
          actor.kind === "agent" ? actor.tokenId : kind + actorKey(actor),
        );
        if (limited) {
          throw new DomainError(
            "rate_limited",
            `Too many requests; retry in ${limited.retryAfterSeconds} s`,
            { retryAfterSeconds: limited.retryAfterSeconds },
          );
        }
        const rawParams = await context.params;
        const params = parseInput(
          pathParams,
          Object.fromEntries(
            Object.entries(rawParams ?? {}).map(([k, v]) => [
              k,
              Array.isArray(v) ? v.join("/") : v,
            ]),
          ),
          "path",
        );
        const hasBody = request.method !== "GET" && request.method !== "HEAD";
        if (hasBody && options.mediaTypes) {
          assertMediaType(request, options.mediaTypes);
        }
        const rawBody = hasBody
          ? await readBody(
              request,
              options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
              options.mediaTypes?.decoders,
            )
          : undefined;
        const body = options.body
          ? parseInput(options.body, rawBody ?? {}, "request body")
          : (undefined as z.infer<BS>);
        if (!options.ignoreUnknownQuery) {
          refuseUnknownParameters(url, acceptedQuery);
        }
        refuseRepeatedParameters(url, options.query);
        const query = options.query
          ? parseInput(options.query, queryObject(url), "query parameters")
          : ({} as z.infer<QS>);
        const result = await options.handler({
          db,
          actor,
          body,
          query,
          params,
          request,
        });
        response = result instanceof Response ? result : jsonResponse(result);
      } catch (error) {
        // A client that hung up is not told anything, and its broken-off
        // request is not a fault of ours or of the database.
        response = request.signal.aborted
          ? errorResponse(clientClosed(error))
          : toErrorResponse(error);
        if (response.status === 403 && actor?.kind === "agent") {
          const { db } = await getDatabase();
          await recordRefusedCall(
            db,
            actor,
            error,
            `${request.method} ${url.pathname}`,
          );
        }
        if (response.status === 429) {
          const details = (error as DomainError).details as
            { retryAfterSeconds?: unknown } | undefined;
          if (typeof details?.retryAfterSeconds === "number") {
            response.headers.set(
              "retry-after",
              String(details.retryAfterSeconds),
            );
          }
        }
      }
      const fields = {
        method: request.method,
        route: url.pathname,
        status: response.status,
        durationMs: Math.round(performance.now() - started),
        ...(actor ? { actor: actorKey(actor) } : {}),
      };
      if (response.status === errorTable.client_closed.status) {
        logger.info(fields, "request aborted by the client");
      } else if (response.status >= 500) logger.error(fields, "request");
      else if (response.status >= 400) logger.warn(fields, "request");
      else logger.info(fields, "request");

      return response;
    };
    const contract: RouteContract = {
      auth: kind,
      body: options.body,
      query: options.query,
      mediaTypes: options.mediaTypes,
    };

    return Object.assign(handle, { contract });
  };
}

const ROUTE_METHODS = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
] as const;
type RouteMethod = (typeof ROUTE_METHODS)[number];

/** What refuseOtherMethods hands back: every method the route does not
 * define, except HEAD beside GET (Next.js answers HEAD with GET). */
type OtherMethods<D> = Exclude<
  RouteMethod,
  keyof D | ("GET" extends keyof D ? "HEAD" : never)
>;

/** Handlers for the methods a route file does not define, exported beside
 * its own so that every method gets an answer the API's clients can read:
 * 405 in the usual error body with an Allow header (Next.js alone answers
 * 405 with an empty body), and 204 with the same header for OPTIONS.
 * `export const { PUT, PATCH, DELETE, OPTIONS, POST } =
 * refuseOtherMethods({ GET });` */
export function refuseOtherMethods<
  D extends Partial<Record<RouteMethod, unknown>>,
>(
  defined: D,
): Record<OtherMethods<D>, (request: Request) => Promise<Response>> {
  const own = Object.keys(defined);
  const allowed = [...own, "OPTIONS"];
  if (own.includes("GET")) allowed.push("HEAD");
  const allow = [...new Set(allowed)].sort().join(", ");
  const refuse = async (request: Request) => {
    const { pathname } = new URL(request.url);
    const response = errorResponse(
      new DomainError(
        "method_not_allowed",
        `${request.method} is not allowed on ${pathname}; it takes ${allow}`,
        { allow: allow.split(", ") },
      ),
      { allow },
    );
    logger.warn(
      { method: request.method, route: pathname, status: response.status },
      "request",
    );

    return response;
  };
  const options = async () =>
    new Response(null, { status: 204, headers: { allow } });
  const other = ROUTE_METHODS.filter(
    (method) =>
      !own.includes(method) && !(method === "HEAD" && own.includes("GET")),
  );

  return Object.fromEntries(
    other.map((method) => [method, method === "OPTIONS" ? options : refuse]),
  ) as Record<OtherMethods<D>, (request: Request) => Promise<Response>>;
}

function actorKey(actor: Actor): string {
  if (actor.kind === "agent") return `agent:${actor.agentId}`;
  if (actor.kind === "user") return `user:${actor.userId}`;

  return actor.label;
}

/** A route for agents, authenticated by an agent token. */
export const agentRoute = makeRoute("agent", authenticateAgent);

/** A route for people, authenticated by a personal access token. */
export const personRoute = makeRoute("person", authenticatePerson);
