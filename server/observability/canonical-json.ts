// Canonical JSON: the same text for the same value whatever the order of
// its object keys, so a digest of it survives a round trip through jsonb
// (which reorders keys). Keys are sorted by UTF-16 code units; members
// whose value is undefined are left out; other values JSON cannot hold
// (functions, symbols) are written null, in arrays and objects alike.
// Objects are read by their own keys: a Date is written {}, not its
// toJSON text, so a value digests the same before and after storing only
// when it is plain JSON, which is what ingest stores.
//
// Chains stored by earlier releases depend on this exact text: a change
// here breaks every stored chain (canonical-json.test.ts pins it).

export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
      if (Array.isArray(value)) return canonicalArray(value);

      return canonicalObject(value as Record<string, unknown>);
    case "bigint":
      // JSON has no bigint: refused as JSON.stringify refuses it.
      return JSON.stringify(value);
    default:
      return "null";
  }
}

function canonicalArray(values: unknown[]): string {
  let text = "[";
  for (let i = 0; i < values.length; i += 1) {
    if (i > 0) text += ",";
    // A hole in a sparse array is written as nothing, as before.
    if (i in values) text += canonicalJson(values[i]);
  }

  return `${text}]`;
}

function canonicalObject(value: Record<string, unknown>): string {
  const keys = Object.keys(value).sort();
  let text = "{";
  let first = true;
  for (const key of keys) {
    const member = value[key];
    if (member === undefined) continue;
    if (!first) text += ",";
    first = false;
    text += `${JSON.stringify(key)}:${canonicalJson(member)}`;
  }

  return `${text}}`;
}
