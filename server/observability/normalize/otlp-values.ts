import type { Rejection } from "../ingest";
import {
  MAX_JSON_DEPTH,
  nestedDeeperThan,
  PayloadTooDeep,
  setOwn,
} from "../limits";

// OTLP/HTTP JSON building blocks: AnyValue, attribute lists and the
// nanosecond timestamps, which exporters write as strings or as numbers.

export interface OtlpKeyValue {
  key?: unknown;
  value?: unknown;
}

/** An OTLP AnyValue as a plain JSON value. `depth` counts the arrays and
 * lists it sits in; past MAX_JSON_DEPTH it throws PayloadTooDeep. */
export function anyValue(value: unknown, depth = 0): unknown {
  if (!value || typeof value !== "object") return null;
  const v = value as Record<string, unknown>;
  if ("stringValue" in v) return v.stringValue;
  if ("boolValue" in v) return v.boolValue;
  if ("intValue" in v) return integer(v.intValue);
  if ("doubleValue" in v) return Number(v.doubleValue);
  if ("bytesValue" in v) return v.bytesValue;
  const nested = "arrayValue" in v || "kvlistValue" in v;
  if (nested && depth >= MAX_JSON_DEPTH) throw new PayloadTooDeep();
  if ("arrayValue" in v) {
    const values = (v.arrayValue as { values?: unknown[] } | null)?.values;

    return Array.isArray(values)
      ? values.map((item) => anyValue(item, depth + 1))
      : [];
  }
  if ("kvlistValue" in v) {
    const values = (v.kvlistValue as { values?: unknown[] } | null)?.values;

    return attributeMap(Array.isArray(values) ? values : [], depth + 1);
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
export function attributeMap(
  list: unknown,
  depth = 0,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(list)) return out;
  for (const item of list as OtlpKeyValue[]) {
    if (item && typeof item.key === "string") {
      setOwn(out, item.key, anyValue(item.value, depth));
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

/** The readable items of a request and the ones that are not. */
export interface OtlpItems {
  items: OtlpItem[];
  rejections: Rejection[];
}

// An OTLP item's raw JSON is deeper than the values it carries: each level
// of AnyValue nesting takes up to four levels of JSON (value, kvlistValue,
// values, key-value). Items deeper than this are refused before anything
// walks them recursively (the log record digest does).
const MAX_RAW_ITEM_DEPTH = 4 * MAX_JSON_DEPTH + 16;

function isRecord(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === "object" && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";

  return `a ${typeof value}`;
}

/** Every item of an OTLP request body, in order: spans of
 * resourceSpans/scopeSpans/spans or records of
 * resourceLogs/scopeLogs/logRecords. Nothing is skipped silently: an entry
 * that is not an object, a list that is not an array and an item that
 * cannot be read each count as one rejected item. An absent (or null) list
 * is an empty one, as OTLP/JSON allows. */
export function flattenOtlp(
  body: unknown,
  keys: { resource: string; scope: string; items: string },
): OtlpItems {
  const out: OtlpItems = { items: [], rejections: [] };
  let index = 0;
  const reject = (reason: string) => {
    out.rejections.push({ index, reason });
    index += 1;
  };
  // The entries of a list, or null after rejecting one that is not a list.
  const listAt = (value: unknown, path: string): unknown[] | null => {
    if (value === undefined || value === null) return [];
    if (Array.isArray(value)) return value;
    reject(`${path} is ${kindOf(value)}, not an array`);

    return null;
  };

  const root = isRecord(body) ? body : {};
  const groups = listAt(root[keys.resource], keys.resource) ?? [];
  groups.forEach((group, g) => {
    const groupPath = `${keys.resource}[${g}]`;
    if (!isRecord(group)) {
      reject(`${groupPath} is ${kindOf(group)}, not an object`);

      return;
    }
    // A resource that cannot be read rejects the items under it.
    let resource: Record<string, unknown> = {};
    let resourceProblem: string | null = null;
    const attributes = isRecord(group.resource)
      ? group.resource.attributes
      : undefined;
    try {
      if (nestedDeeperThan(attributes, MAX_RAW_ITEM_DEPTH)) {
        throw new PayloadTooDeep();
      }
      resource = attributeMap(attributes);
    } catch (error) {
      if (!(error instanceof PayloadTooDeep)) throw error;
      resourceProblem = `${groupPath}.resource attributes are nested deeper than ${MAX_JSON_DEPTH} levels`;
    }

    const scopes = listAt(group[keys.scope], `${groupPath}.${keys.scope}`);
    scopes?.forEach((scoped, s) => {
      const scopePath = `${groupPath}.${keys.scope}[${s}]`;
      if (!isRecord(scoped)) {
        reject(`${scopePath} is ${kindOf(scoped)}, not an object`);

        return;
      }
      const scope = str(isRecord(scoped.scope) ? scoped.scope.name : null);
      const items = listAt(scoped[keys.items], `${scopePath}.${keys.items}`);
      items?.forEach((item, i) => {
        const itemPath = `${scopePath}.${keys.items}[${i}]`;
        if (!isRecord(item)) {
          reject(`${itemPath} is ${kindOf(item)}, not an object`);
        } else if (resourceProblem) {
          reject(resourceProblem);
        } else if (nestedDeeperThan(item, MAX_RAW_ITEM_DEPTH)) {
          reject(
            `${itemPath} is nested deeper than ${MAX_RAW_ITEM_DEPTH} levels`,
          );
        } else {
          out.items.push({ item, resource, scope, index });
          index += 1;
        }
      });
    });
  });

  return out;
}
