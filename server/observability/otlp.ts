import type { Database } from "@/db/client";
import { invalidInput } from "@/server/errors";
import { storeEvents, type AgentActor, type IngestResult } from "./ingest";
import { fromOtlpLogs } from "./normalize/otlp-logs";
import { fromOtlpTraces } from "./normalize/otlp-traces";

// OTLP/HTTP ingest. A protobuf request arrives already decoded into the
// OTLP/JSON shape (normalize/otlp-protobuf.ts), so one path serves both
// encodings. The answer follows the OTLP specification: an
// empty object when everything was accepted, or a partialSuccess naming how
// many spans or log records were rejected and why. Duplicates (a retried
// export) are accepted, not rejected.

export interface OtlpTraceAnswer {
  partialSuccess?: { rejectedSpans: number; errorMessage: string };
}

export interface OtlpLogAnswer {
  partialSuccess?: { rejectedLogRecords: number; errorMessage: string };
}

// A body without the top-level list is not OTLP at all: refused whole
// rather than answered as an empty success.
function requireList(body: unknown, field: string) {
  const list = (body as Record<string, unknown> | null)?.[field];
  if (!body || typeof body !== "object" || !Array.isArray(list)) {
    throw invalidInput(`Not an OTLP/JSON export: expected a ${field} array`, [
      { path: field, message: "expected an array" },
    ]);
  }
}

// Reasons name the item by its position among all the spans (or log
// records) of the request.
function summary(result: IngestResult, noun: string): string {
  const shown = result.rejections
    .slice(0, 5)
    .map((r) => `${noun} ${r.index}: ${r.reason}`);
  const more = result.rejected - shown.length;

  return shown.join("; ") + (more > 0 ? `; and ${more} more` : "");
}

export async function ingestOtlpTraces(
  db: Database,
  actor: AgentActor,
  body: unknown,
): Promise<OtlpTraceAnswer> {
  requireList(body, "resourceSpans");
  const result = await storeEvents(db, actor, "otlp", fromOtlpTraces(body));
  if (result.rejected === 0) return {};

  return {
    partialSuccess: {
      rejectedSpans: result.rejected,
      errorMessage: summary(result, "span"),
    },
  };
}

export async function ingestOtlpLogs(
  db: Database,
  actor: AgentActor,
  body: unknown,
): Promise<OtlpLogAnswer> {
  requireList(body, "resourceLogs");
  const result = await storeEvents(db, actor, "otlp", fromOtlpLogs(body));
  if (result.rejected === 0) return {};

  return {
    partialSuccess: {
      rejectedLogRecords: result.rejected,
      errorMessage: summary(result, "log record"),
    },
  };
}
