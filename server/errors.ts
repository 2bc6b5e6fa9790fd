import { ZodError } from "zod";
import { databaseValueRefusal, isDatabaseUnavailable } from "@/db/client";

// Domain errors, and the one table that maps them to HTTP statuses and tRPC
// codes. Domain functions throw these; transports translate them.

export type ErrorCode =
  | "invalid_input"
  | "unauthenticated"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "payload_too_large"
  | "unsupported_media_type"
  | "rate_limited"
  | "client_closed"
  | "unavailable"
  | "internal";

type TrpcCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "METHOD_NOT_SUPPORTED"
  | "CONFLICT"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "TOO_MANY_REQUESTS"
  | "CLIENT_CLOSED_REQUEST"
  | "SERVICE_UNAVAILABLE"
  | "INTERNAL_SERVER_ERROR";

export const errorTable: Record<ErrorCode, { status: number; trpc: TrpcCode }> =
  {
    invalid_input: { status: 400, trpc: "BAD_REQUEST" },
    unauthenticated: { status: 401, trpc: "UNAUTHORIZED" },
    forbidden: { status: 403, trpc: "FORBIDDEN" },
    not_found: { status: 404, trpc: "NOT_FOUND" },
    method_not_allowed: { status: 405, trpc: "METHOD_NOT_SUPPORTED" },
    conflict: { status: 409, trpc: "CONFLICT" },
    payload_too_large: { status: 413, trpc: "PAYLOAD_TOO_LARGE" },
    unsupported_media_type: { status: 415, trpc: "UNSUPPORTED_MEDIA_TYPE" },
    rate_limited: { status: 429, trpc: "TOO_MANY_REQUESTS" },
    // The client hung up before the answer; 499 as nginx logs it.
    client_closed: { status: 499, trpc: "CLIENT_CLOSED_REQUEST" },
    unavailable: { status: 503, trpc: "SERVICE_UNAVAILABLE" },
    internal: { status: 500, trpc: "INTERNAL_SERVER_ERROR" },
  };

export interface FieldIssue {
  path: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown> | FieldIssue[],
  ) {
    super(message);
    this.name = "DomainError";
  }

  get status(): number {
    return errorTable[this.code].status;
  }
}

export const invalidInput = (message: string, issues: FieldIssue[] = []) =>
  new DomainError("invalid_input", message, issues);
export const notFound = (what: string, id?: string) =>
  new DomainError(
    "not_found",
    id ? `${what} ${id} was not found` : `${what} was not found`,
  );
export const forbidden = (message: string, details?: Record<string, unknown>) =>
  new DomainError("forbidden", message, details);
export const conflict = (message: string, details?: Record<string, unknown>) =>
  new DomainError("conflict", message, details);
export const unauthenticated = (message: string) =>
  new DomainError("unauthenticated", message);

/** Field paths and messages of a zod failure. */
export function zodIssues(error: {
  issues: { path: PropertyKey[]; message: string }[];
}): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join(".") || "(root)",
    message: issue.message,
  }));
}

/** Translates failures that are not our fault (the database is down, or
 * refused a value the caller sent) into domain errors; null otherwise. */
export function classifyFailure(error: unknown): DomainError | null {
  if (error instanceof DomainError) return error;
  if (error instanceof ZodError) {
    const issues = zodIssues(error);
    const summary = issues
      .slice(0, 3)
      .map((issue) => `${issue.path}: ${issue.message}`)
      .join("; ");

    return new DomainError(
      "invalid_input",
      `Invalid input: ${summary}`,
      issues,
    );
  }
  if (isDatabaseUnavailable(error)) {
    return new DomainError(
      "unavailable",
      "The database is unavailable; retry shortly",
      { retryAfterSeconds: 5 },
    );
  }
  const refusal = databaseValueRefusal(error);
  if (refusal) {
    return new DomainError("invalid_input", `Invalid input: ${refusal}`);
  }

  return null;
}

/** Whether the error, or one it wraps, carries the SQLSTATE code. */
function hasSqlState(error: unknown, code: string): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    if ((current as { code?: string }).code === code) return true;
    current = (current as { cause?: unknown }).cause;
  }

  return false;
}

/** Unique-constraint violations from either driver. */
export function isUniqueViolation(error: unknown): boolean {
  return hasSqlState(error, "23505");
}

/** Foreign-key violations from either driver. */
export function isForeignKeyViolation(error: unknown): boolean {
  return hasSqlState(error, "23503");
}
