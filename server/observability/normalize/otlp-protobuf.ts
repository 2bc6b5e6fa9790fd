import { invalidInput } from "@/server/errors";
import { MAX_JSON_DEPTH } from "../limits";
import {
  MalformedProtobuf,
  WireReader,
  WireType,
  WireWriter,
  type Field,
} from "./protobuf-wire";

// OTLP/HTTP protobuf: export requests decoded into the very shape OTLP/JSON
// gives them, so the JSON normalizers read both, and export answers
// encoded. The shape follows the OTLP/JSON rules: camelCase names, trace
// and span ids as lowercase hex, 64-bit times as decimal strings, enums as
// numbers, bytes values as base64. As in proto3 JSON, a field left at its
// default (0, "", empty) is absent; a field the decoder does not know, or
// one sent with an unexpected wire type, is skipped.

type Json = Record<string, unknown>;

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

// int64 values within 2^53 stay numbers, as JSON exporters write them;
// larger ones are kept as exact decimal strings.
function int64(value: bigint): number | string {
  const signed = BigInt.asIntN(64, value);

  return signed >= BigInt(Number.MIN_SAFE_INTEGER) &&
    signed <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(signed)
    : signed.toString();
}

function double(value: number): number | string {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return "NaN";

  return value > 0 ? "Infinity" : "-Infinity";
}

/** Sets `key` unless the value is the field's default. */
function put(out: Json, key: string, value: unknown) {
  if (value === "" || value === 0 || value === undefined) return;
  if (value instanceof Uint8Array && value.length === 0) return;
  out[key] = value;
}

function push(out: Json, key: string, value: unknown) {
  const list = (out[key] as unknown[] | undefined) ?? [];
  list.push(value);
  out[key] = list;
}

/** Reads a message's fields; `read` returns false for a field it does not
 * take, which is then skipped by its wire type. */
function fields(
  reader: WireReader,
  read: (field: Field, reader: WireReader) => boolean,
) {
  for (let field = reader.next(); field; field = reader.next()) {
    if (!read(field, reader)) reader.skip(field);
  }
}

const is = (field: Field, number: number, wireType: number) =>
  field.number === number && field.wireType === wireType;

// AnyValue nesting: values deeper than the normalizers accept are kept as
// an empty container at that depth (its contents skipped unread), so the
// item is refused the way a too-deep OTLP/JSON item is, and decoding never
// recurses further.
function anyValue(reader: WireReader, depth: number): Json {
  let out: Json = {};
  const deep = depth > MAX_JSON_DEPTH;
  fields(reader, (field, r) => {
    if (is(field, 1, WireType.bytes)) out = { stringValue: r.string() };
    else if (is(field, 2, WireType.varint)) {
      out = { boolValue: r.varint64() !== 0n };
    } else if (is(field, 3, WireType.varint)) {
      out = { intValue: int64(r.varint64()) };
    } else if (is(field, 4, WireType.fixed64)) {
      out = { doubleValue: double(r.double()) };
    } else if (is(field, 5, WireType.bytes)) {
      const nested = r.message();
      out = { arrayValue: { values: deep ? [] : arrayValues(nested, depth) } };
    } else if (is(field, 6, WireType.bytes)) {
      const nested = r.message();
      out = {
        kvlistValue: { values: deep ? [] : keyValues(nested, depth + 1) },
      };
    } else if (is(field, 7, WireType.bytes)) {
      out = { bytesValue: Buffer.from(r.bytesField()).toString("base64") };
    } else return false;

    return true;
  });

  return out;
}

function arrayValues(reader: WireReader, depth: number): Json[] {
  const values: Json[] = [];
  fields(reader, (field, r) => {
    if (!is(field, 1, WireType.bytes)) return false;
    values.push(anyValue(r.message(), depth + 1));

    return true;
  });

  return values;
}

// The entries of a KeyValueList message (field 1, repeated KeyValue).
function keyValues(reader: WireReader, depth: number): Json[] {
  const values: Json[] = [];
  fields(reader, (field, r) => {
    if (!is(field, 1, WireType.bytes)) return false;
    values.push(keyValue(r.message(), depth));

    return true;
  });

  return values;
}

function keyValue(reader: WireReader, depth = 0): Json {
  const out: Json = { key: "" };
  fields(reader, (field, r) => {
    if (is(field, 1, WireType.bytes)) out.key = r.string();
    else if (is(field, 2, WireType.bytes)) {
      out.value = anyValue(r.message(), depth);
    } else return false;

    return true;
  });

  return out;
}

/** Resource: attributes = 1, dropped_attributes_count = 2. */
function resource(reader: WireReader): Json {
  const out: Json = {};
  fields(reader, (field, r) => {
    if (is(field, 1, WireType.bytes))
      push(out, "attributes", keyValue(r.message()));
    else if (is(field, 2, WireType.varint)) {
      put(out, "droppedAttributesCount", r.uint32());
    } else return false;

    return true;
  });

  return out;
}

/** InstrumentationScope: name = 1, version = 2, attributes = 3,
 * dropped_attributes_count = 4. */
function scope(reader: WireReader): Json {
  const out: Json = {};
  fields(reader, (field, r) => {
    if (is(field, 1, WireType.bytes)) put(out, "name", r.string());
    else if (is(field, 2, WireType.bytes)) put(out, "version", r.string());
    else if (is(field, 3, WireType.bytes)) {
      push(out, "attributes", keyValue(r.message()));
    } else if (is(field, 4, WireType.varint)) {
      put(out, "droppedAttributesCount", r.uint32());
    } else return false;

    return true;
  });

  return out;
}

/** Span.Event: time_unix_nano = 1, name = 2, attributes = 3,
 * dropped_attributes_count = 4. */
function spanEvent(reader: WireReader): Json {
  const out: Json = {};
  fields(reader, (field, r) => {
    if (is(field, 1, WireType.fixed64)) {
      put(out, "timeUnixNano", nanos(r.fixed64()));
    } else if (is(field, 2, WireType.bytes)) put(out, "name", r.string());
    else if (is(field, 3, WireType.bytes)) {
      push(out, "attributes", keyValue(r.message()));
    } else if (is(field, 4, WireType.varint)) {
      put(out, "droppedAttributesCount", r.uint32());
    } else return false;

    return true;
  });

  return out;
}

/** Span.Link: trace_id = 1, span_id = 2, trace_state = 3, attributes = 4,
 * dropped_attributes_count = 5, flags = 6. */
function spanLink(reader: WireReader): Json {
  const out: Json = {};
  fields(reader, (field, r) => {
    if (is(field, 1, WireType.bytes)) put(out, "traceId", hex(r.bytesField()));
    else if (is(field, 2, WireType.bytes)) {
      put(out, "spanId", hex(r.bytesField()));
    } else if (is(field, 3, WireType.bytes)) {
      put(out, "traceState", r.string());
    } else if (is(field, 4, WireType.bytes)) {
      push(out, "attributes", keyValue(r.message()));
    } else if (is(field, 5, WireType.varint)) {
      put(out, "droppedAttributesCount", r.uint32());
    } else if (is(field, 6, WireType.fixed32)) put(out, "flags", r.fixed32());
    else return false;

    return true;
  });

  return out;
}

/** Status: message = 2, code = 3. */
function status(reader: WireReader): Json {
  const out: Json = {};
  fields(reader, (field, r) => {
    if (is(field, 2, WireType.bytes)) put(out, "message", r.string());
    else if (is(field, 3, WireType.varint)) put(out, "code", r.int32());
    else return false;

    return true;
  });

  return out;
}

// A time of 0 means "not set" in OTLP; it is left out like any default.
const nanos = (value: bigint) => (value === 0n ? undefined : value.toString());

/** Span, fields 1 to 16. */
function span(reader: WireReader): Json {
  const out: Json = {};
  fields(reader, (field, r) => {
    switch (field.wireType) {
      case WireType.bytes:
        if (field.number === 1) put(out, "traceId", hex(r.bytesField()));
        else if (field.number === 2) put(out, "spanId", hex(r.bytesField()));
        else if (field.number === 3) put(out, "traceState", r.string());
        else if (field.number === 4) {
          put(out, "parentSpanId", hex(r.bytesField()));
        } else if (field.number === 5) put(out, "name", r.string());
        else if (field.number === 9) {
          push(out, "attributes", keyValue(r.message()));
        } else if (field.number === 11)
          push(out, "events", spanEvent(r.message()));
        else if (field.number === 13) push(out, "links", spanLink(r.message()));
        else if (field.number === 15) out.status = status(r.message());
        else return false;

        return true;
      case WireType.varint:
        if (field.number === 6) put(out, "kind", r.int32());
        else if (field.number === 10) {
          put(out, "droppedAttributesCount", r.uint32());
        } else if (field.number === 12) {
          put(out, "droppedEventsCount", r.uint32());
        } else if (field.number === 14) {
          put(out, "droppedLinksCount", r.uint32());
        } else return false;

        return true;
      case WireType.fixed64:
        if (field.number === 7)
          put(out, "startTimeUnixNano", nanos(r.fixed64()));
        else if (field.number === 8) {
          put(out, "endTimeUnixNano", nanos(r.fixed64()));
        } else return false;

        return true;
      case WireType.fixed32:
        if (field.number !== 16) return false;
        put(out, "flags", r.fixed32());

        return true;
      default:
        return false;
    }
  });

  return out;
}

/** LogRecord: time_unix_nano = 1, severity_number = 2, severity_text = 3,
 * body = 5, attributes = 6, dropped_attributes_count = 7, flags = 8,
 * trace_id = 9, span_id = 10, observed_time_unix_nano = 11,
 * event_name = 12. */
function logRecord(reader: WireReader): Json {
  const out: Json = {};
  fields(reader, (field, r) => {
    if (is(field, 1, WireType.fixed64)) {
      put(out, "timeUnixNano", nanos(r.fixed64()));
    } else if (is(field, 2, WireType.varint)) {
      put(out, "severityNumber", r.int32());
    } else if (is(field, 3, WireType.bytes)) {
      put(out, "severityText", r.string());
    } else if (is(field, 5, WireType.bytes))
      out.body = anyValue(r.message(), 0);
    else if (is(field, 6, WireType.bytes)) {
      push(out, "attributes", keyValue(r.message()));
    } else if (is(field, 7, WireType.varint)) {
      put(out, "droppedAttributesCount", r.uint32());
    } else if (is(field, 8, WireType.fixed32)) put(out, "flags", r.fixed32());
    else if (is(field, 9, WireType.bytes))
      put(out, "traceId", hex(r.bytesField()));
    else if (is(field, 10, WireType.bytes)) {
      put(out, "spanId", hex(r.bytesField()));
    } else if (is(field, 11, WireType.fixed64)) {
      put(out, "observedTimeUnixNano", nanos(r.fixed64()));
    } else if (is(field, 12, WireType.bytes)) put(out, "eventName", r.string());
    else return false;

    return true;
  });

  return out;
}

interface Signal {
  request: string;
  resource: string;
  scope: string;
  items: string;
  item: (reader: WireReader) => Json;
}

const traces: Signal = {
  request: "ExportTraceServiceRequest",
  resource: "resourceSpans",
  scope: "scopeSpans",
  items: "spans",
  item: span,
};

const logs: Signal = {
  request: "ExportLogsServiceRequest",
  resource: "resourceLogs",
  scope: "scopeLogs",
  items: "logRecords",
  item: logRecord,
};

/** Names the list entry a fault lies in, innermost first. */
function within<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof MalformedProtobuf && !error.path) error.path = path;
    throw error;
  }
}

// Export*ServiceRequest { repeated Resource* = 1 }, Resource* { resource =
// 1; repeated Scope* = 2; schema_url = 3 }, Scope* { scope = 1; repeated
// items = 2; schema_url = 3 }: the same layout for both signals.
function decodeRequest(signal: Signal, body: Uint8Array): Json {
  const groups: Json[] = [];
  fields(new WireReader(body), (field, r) => {
    if (!is(field, 1, WireType.bytes)) return false;
    const g = groups.length;
    const groupPath = `${signal.resource}[${g}]`;
    groups.push(
      within(groupPath, () => resourceGroup(signal, r.message(), groupPath)),
    );

    return true;
  });

  return { [signal.resource]: groups };
}

function resourceGroup(signal: Signal, reader: WireReader, path: string) {
  const out: Json = {};
  fields(reader, (field, r) => {
    if (is(field, 1, WireType.bytes)) out.resource = resource(r.message());
    else if (is(field, 2, WireType.bytes)) {
      const s = ((out[signal.scope] as unknown[]) ?? []).length;
      const scopePath = `${path}.${signal.scope}[${s}]`;
      push(
        out,
        signal.scope,
        within(scopePath, () => scopeGroup(signal, r.message(), scopePath)),
      );
    } else if (is(field, 3, WireType.bytes)) put(out, "schemaUrl", r.string());
    else return false;

    return true;
  });

  return out;
}

function scopeGroup(signal: Signal, reader: WireReader, path: string) {
  const out: Json = {};
  fields(reader, (field, r) => {
    if (is(field, 1, WireType.bytes)) out.scope = scope(r.message());
    else if (is(field, 2, WireType.bytes)) {
      const i = ((out[signal.items] as unknown[]) ?? []).length;
      const itemPath = `${path}.${signal.items}[${i}]`;
      push(
        out,
        signal.items,
        within(itemPath, () => signal.item(r.message())),
      );
    } else if (is(field, 3, WireType.bytes)) put(out, "schemaUrl", r.string());
    else return false;

    return true;
  });

  return out;
}

function decodeOrRefuse(signal: Signal, body: Uint8Array): Json {
  try {
    return decodeRequest(signal, body);
  } catch (error) {
    if (!(error instanceof MalformedProtobuf)) throw error;
    const where = error.path ? ` in ${error.path}` : "";

    throw invalidInput(
      `Request body is not a valid OTLP protobuf ${signal.request}: ` +
        `${error.reason}${where} (byte ${error.offset})`,
      [{ path: error.path ?? "(body)", message: error.reason }],
    );
  }
}

/** An ExportTraceServiceRequest as OTLP/JSON would carry it; malformed
 * bytes are invalid input naming the fault and where it lies. */
export const decodeTraceRequest = (body: Uint8Array) =>
  decodeOrRefuse(traces, body);

/** An ExportLogsServiceRequest as OTLP/JSON would carry it. */
export const decodeLogsRequest = (body: Uint8Array) =>
  decodeOrRefuse(logs, body);

// Export*ServiceResponse { Export*PartialSuccess partial_success = 1 },
// Export*PartialSuccess { int64 rejected_<items> = 1; string
// error_message = 2 }. A full success is the empty message.
function encodeAnswer(partial: { rejected: number; message: string } | null) {
  const answer = new WireWriter();
  if (partial) {
    const details = new WireWriter();
    if (partial.rejected !== 0) details.int64(1, partial.rejected);
    if (partial.message !== "") details.string(2, partial.message);
    answer.message(1, details);
  }

  return answer.finish();
}

export function encodeTraceAnswer(answer: {
  partialSuccess?: { rejectedSpans: number; errorMessage: string };
}): Uint8Array {
  const partial = answer.partialSuccess;

  return encodeAnswer(
    partial
      ? { rejected: partial.rejectedSpans, message: partial.errorMessage }
      : null,
  );
}

export function encodeLogsAnswer(answer: {
  partialSuccess?: { rejectedLogRecords: number; errorMessage: string };
}): Uint8Array {
  const partial = answer.partialSuccess;

  return encodeAnswer(
    partial
      ? { rejected: partial.rejectedLogRecords, message: partial.errorMessage }
      : null,
  );
}

/** google.rpc.Status { int32 code = 1; string message = 2 }, the body of
 * an OTLP/HTTP protobuf failure. OTLP does not use the code, so only the
 * message is written. */
export function encodeFailure(message: string): Uint8Array {
  return new WireWriter().string(2, message).finish();
}
