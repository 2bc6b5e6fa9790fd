// OTLP/HTTP JSON building blocks: AnyValue, attribute lists and the
// nanosecond timestamps, which exporters write as strings or as numbers.

export interface OtlpKeyValue {
  key?: unknown;
  value?: unknown;
}

/** An OTLP AnyValue as a plain JSON value. */
export function anyValue(value: unknown): unknown {
  if (!value || typeof value !== "object") return null;
  const v = value as Record<string, unknown>;
  if ("stringValue" in v) return v.stringValue;
  if ("boolValue" in v) return v.boolValue;
  if ("intValue" in v) return integer(v.intValue);
  if ("doubleValue" in v) return Number(v.doubleValue);
  if ("bytesValue" in v) return v.bytesValue;
  if ("arrayValue" in v) {
    const values = (v.arrayValue as { values?: unknown[] } | null)?.values;

    return Array.isArray(values) ? values.map(anyValue) : [];
  }
  if ("kvlistValue" in v) {
    const values = (v.kvlistValue as { values?: unknown[] } | null)?.values;

    return attributeMap(Array.isArray(values) ? values : []);
  }

  return null;
}

// int64 arrives as a string or a number; beyond 2^53 a string is kept
// rather than silently losing digits.
function integer(value: unknown): number | string | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "string" && /^-?\d+$/.test(value.trim())) {
    const n = Number(value);

    return Number.isSafeInteger(n) ? n : value.trim();
  }

  return null;
}

/** An attribute list as an object keyed by attribute name. */
export function attributeMap(list: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(list)) return out;
  for (const item of list as OtlpKeyValue[]) {
    if (item && typeof item.key === "string") {
      out[item.key] = anyValue(item.value);
    }
  }

  return out;
}

/** A Unix-nanosecond timestamp as a Date, or null when absent or 0. */
export function nanosToDate(value: unknown): Date | null {
  let ms: number | null = null;
  if (typeof value === "string" && /^\d+$/.test(value.trim())) {
    ms = Number(BigInt(value.trim()) / 1_000_000n);
  } else if (typeof value === "number" && Number.isFinite(value)) {
    ms = Math.floor(value / 1_000_000);
  }
  if (!ms) return null;
  const date = new Date(ms);

  return Number.isNaN(date.getTime()) ? null : date;
}

/** Milliseconds between two nanosecond timestamps, or null. */
export function nanosBetween(start: unknown, end: unknown): number | null {
  const a = nanosValue(start);
  const b = nanosValue(end);
  if (a === null || b === null || b < a) return null;

  return Number((b - a) / 1_000_000n);
}

function nanosValue(value: unknown): bigint | null {
  if (typeof value === "string" && /^\d+$/.test(value.trim())) {
    return BigInt(value.trim());
  }
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) {
    return BigInt(Math.round(value));
  }

  return null;
}

/** A count from an attribute that may be a number or a numeric string. */
export function count(value: unknown): number | undefined {
  const n =
    typeof value === "number"
      ? value
      : typeof value === "string" && value.trim() !== ""
        ? Number(value)
        : NaN;

  return Number.isFinite(n) && n >= 0 ? Math.round(n) : undefined;
}

export function str(value: unknown): string | null {
  if (typeof value === "string" && value.length > 0) return value;
  if (typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }

  return null;
}

export function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value)
    ? value.filter(
        (item): item is Record<string, unknown> =>
          !!item && typeof item === "object",
      )
    : [];
}

/** One span or log record with the resource and scope it came under. */
export interface OtlpItem {
  item: Record<string, unknown>;
  resource: Record<string, unknown>;
  scope: string | null;
  index: number;
}

/** Every item of an OTLP request body, in order: spans of
 * resourceSpans/scopeSpans/spans or records of
 * resourceLogs/scopeLogs/logRecords. */
export function flattenOtlp(
  body: unknown,
  keys: { resource: string; scope: string; items: string },
): OtlpItem[] {
  const out: OtlpItem[] = [];
  const root = (body ?? {}) as Record<string, unknown>;
  for (const group of records(root[keys.resource])) {
    const resource = attributeMap(
      (group.resource as { attributes?: unknown } | undefined)?.attributes,
    );
    for (const scoped of records(group[keys.scope])) {
      const scope = str((scoped.scope as { name?: unknown } | undefined)?.name);
      for (const item of records(scoped[keys.items])) {
        out.push({ item, resource, scope, index: out.length });
      }
    }
  }

  return out;
}
