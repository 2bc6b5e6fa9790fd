// File scopes. A task's scope and a reservation are lists of path globs
// ("src/api/**", "docs/*.md", "package.json"). Two agents must never hold
// overlapping scopes at once, so claims and reservations compare them.
//
// Globs are compared by their roots: the fixed directory part before the
// first segment with a wildcard ("src/api/**" -> "src/api", "**/*.ts" -> "",
// the whole project). Two globs overlap when one root contains the other.
// This is deliberately cautious: "src/*.ts" and "src/*.md" share the root
// "src" and count as overlapping although no file matches both. A false
// overlap delays a claim; a missed one lets two agents edit one file.
//
// The same rule is written in SQL twice: scopeOverlapSql below compares
// every pair (the plan review page), and the claim path in leases.ts
// (rootsMeetSql) looks each root's ancestors up in the held set, which
// stays fast with many holders. The migration that filled in the roots of
// existing tasks computes roots the same way.

import { createHash } from "node:crypto";
import { sql, type SQL } from "drizzle-orm";
import { queryRows, type Database } from "@/db/client";

const WILDCARD = /[*?[{]/;

/** Trims leading and trailing slashes, "." segments and doubled
 * slashes: "./src//./a.ts/" -> "src/a.ts". */
export function normalizeGlob(glob: string): string {
  return glob
    .trim()
    .split("/")
    .filter((segment) => segment !== "" && segment !== ".")
    .join("/");
}

/** The fixed directory part of a glob; "" means the whole project. */
export function scopeRoot(glob: string): string {
  const kept: string[] = [];
  for (const segment of normalizeGlob(glob).split("/")) {
    if (WILDCARD.test(segment)) break;
    kept.push(segment);
  }

  return kept.join("/");
}

export function scopeRoots(globs: string[]): string[] {
  return [...new Set(globs.map(scopeRoot))];
}

/** Whether one root contains the other (a root contains itself). */
export function rootsOverlap(a: string, b: string): boolean {
  if (a === "" || b === "" || a === b) return true;

  return a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/** The first pair of overlapping roots, or null. */
export function firstOverlap(
  ours: string[],
  theirs: string[],
): { ours: string; theirs: string } | null {
  for (const a of ours) {
    for (const b of theirs) {
      if (rootsOverlap(a, b)) return { ours: a, theirs: b };
    }
  }

  return null;
}

/** SQL: whether the text arrays `a` and `b` of roots overlap. */
export function scopeOverlapSql(a: SQL, b: SQL): SQL {
  return sql`exists (
    select 1 from unnest(${a}) as ra(r), unnest(${b}) as rb(r)
    where ra.r = '' or rb.r = '' or ra.r = rb.r
      or starts_with(ra.r, rb.r || '/') or starts_with(rb.r, ra.r || '/')
  )`;
}

// Matching a concrete path against a glob, without regular expressions:
// globs come from agents, and a compiled pattern can throw on a bad
// character range or take exponential time on stacked "**". Here a glob is
// cut into segments ("**" matches any number of whole segments, "*" and
// "?" stay inside one), braces are expanded first, and both levels are
// matched with memoised or two-pointer walks, so the time stays
// proportional to the sizes multiplied.

const MAX_BRACE_EXPANSIONS = 64;

/** "src/{api,web}/*.ts" -> ["src/api/*.ts", "src/web/*.ts"] (not nested;
 * at most 64 results). */
function expandBraces(glob: string): string[] {
  const open = glob.indexOf("{");
  const close = open === -1 ? -1 : glob.indexOf("}", open);
  if (open === -1 || close === -1) return [glob];
  const head = glob.slice(0, open);
  const tail = glob.slice(close + 1);
  const results: string[] = [];
  for (const option of glob.slice(open + 1, close).split(",")) {
    for (const rest of expandBraces(tail)) {
      results.push(`${head}${option}${rest}`);
      if (results.length >= MAX_BRACE_EXPANSIONS) return results;
    }
  }

  return results;
}

type Token =
  | { kind: "char"; char: string }
  | { kind: "any" }
  | { kind: "star" }
  | { kind: "set"; negated: boolean; ranges: [string, string][] };

/** One segment's tokens; an unclosed "[" is a plain character. */
function tokenize(segment: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < segment.length; i += 1) {
    const char = segment[i]!;
    if (char === "*") {
      if (tokens.at(-1)?.kind !== "star") tokens.push({ kind: "star" });
    } else if (char === "?") {
      tokens.push({ kind: "any" });
    } else if (char === "[" && segment.indexOf("]", i + 2) !== -1) {
      const end = segment.indexOf("]", i + 2);
      let body = segment.slice(i + 1, end);
      const negated = body.startsWith("!") || body.startsWith("^");
      if (negated) body = body.slice(1);
      const ranges: [string, string][] = [];
      for (let k = 0; k < body.length; k += 1) {
        if (body[k + 1] === "-" && k + 2 < body.length) {
          ranges.push([body[k]!, body[k + 2]!]);
          k += 2;
        } else {
          ranges.push([body[k]!, body[k]!]);
        }
      }
      tokens.push({ kind: "set", negated, ranges });
      i = end;
    } else {
      tokens.push({ kind: "char", char });
    }
  }

  return tokens;
}

function tokenMatches(token: Token, char: string): boolean {
  if (token.kind === "any") return true;
  if (token.kind === "char") return token.char === char;
  if (token.kind === "star") return false;
  // A backwards range ("z-a") matches nothing.
  const inside = token.ranges.some(([from, to]) => from <= char && char <= to);

  return inside !== token.negated;
}

/** Whether one path segment matches one glob segment. */
function segmentMatches(tokens: Token[], text: string): boolean {
  let t = 0;
  let c = 0;
  let starToken = -1;
  let starChar = 0;
  while (c < text.length) {
    const token = tokens[t];
    if (token && token.kind !== "star" && tokenMatches(token, text[c]!)) {
      t += 1;
      c += 1;
    } else if (token?.kind === "star") {
      starToken = t;
      starChar = c;
      t += 1;
    } else if (starToken !== -1) {
      // Let the last star take one more character and try again.
      t = starToken + 1;
      starChar += 1;
      c = starChar;
    } else {
      return false;
    }
  }
  while (tokens[t]?.kind === "star") t += 1;

  return t === tokens.length;
}

function matchesExpanded(pathSegments: string[], glob: string): boolean {
  const segments: ("**" | Token[])[] = [];
  for (const segment of glob.split("/")) {
    if (segment === "**") {
      if (segments.at(-1) !== "**") segments.push("**");
    } else {
      segments.push(tokenize(segment));
    }
  }
  const seen = new Map<number, boolean>();
  const width = pathSegments.length + 1;
  const walk = (g: number, p: number): boolean => {
    // A glob naming a folder covers what is inside it.
    if (g === segments.length) return true;
    const key = g * width + p;
    const known = seen.get(key);
    if (known !== undefined) return known;
    const segment = segments[g]!;
    let result: boolean;
    if (segment === "**") {
      result = walk(g + 1, p) || (p < pathSegments.length && walk(g, p + 1));
    } else {
      result =
        p < pathSegments.length &&
        segmentMatches(segment, pathSegments[p]!) &&
        walk(g + 1, p + 1);
    }
    seen.set(key, result);

    return result;
  };

  return walk(0, 0);
}

/** Whether a concrete path is matched by a glob. */
export function pathMatches(path: string, glob: string): boolean {
  // A glob spelling the path itself holds it, even when the path has
  // characters a glob reads as a pattern (Next.js's "app/[slug]/page.tsx").
  const target = normalizeGlob(path);
  const pattern = normalizeGlob(glob);
  if (target === pattern || target.startsWith(`${pattern}/`)) return true;
  const pathSegments = target === "" ? [] : target.split("/");

  return expandBraces(pattern).some((expanded) =>
    matchesExpanded(pathSegments, expanded),
  );
}

/** A 64-bit advisory-lock key for a name. */
function lockKey(name: string): bigint {
  return createHash("sha256")
    .update(`flotilla\0${name}`)
    .digest()
    .readBigInt64BE(0);
}

/** The lock key of one root of one project. */
function rootKey(projectId: string, root: string): bigint {
  return lockKey(`scope\0${projectId}\0${root}`);
}

/**
 * Serialises concurrent claims and reservations whose roots overlap, for
 * the rest of the transaction `tx`. Each root is locked exclusively and each
 * of its ancestors (up to "", the whole project) shared, so "src" and
 * "src/api" wait for each other while "src/api" and "src/web" do not. Keys
 * are taken in one sorted order, so two transactions never deadlock on
 * them. After the locks, a fresh statement sees every hold committed by a
 * transaction that held an overlapping root; the caller re-checks there.
 */
export async function lockScopeRoots(
  tx: Database,
  projectId: string,
  roots: string[],
  // Further names to lock exclusively in the same sorted pass, such as a
  // goal whose budget the caller is about to reserve from.
  others: string[] = [],
): Promise<void> {
  const modes = new Map<bigint, boolean>();
  for (const name of others) {
    modes.set(lockKey(`other\0${name}`), true);
  }
  for (const root of roots) {
    const parts = root === "" ? [] : root.split("/");
    for (let depth = 0; depth <= parts.length; depth += 1) {
      const key = rootKey(projectId, parts.slice(0, depth).join("/"));
      const exclusive = depth === parts.length;
      modes.set(key, (modes.get(key) ?? false) || exclusive);
    }
  }
  if (modes.size === 0) return;
  const ordered = [...modes.entries()].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const keys = sql.join(
    ordered.map(([key]) => sql`${key.toString()}::bigint`),
    sql`, `,
  );
  const exclusive = sql.join(
    ordered.map(([, flag]) => sql`${flag}::boolean`),
    sql`, `,
  );
  await queryRows(
    tx,
    sql`select case when u.e then pg_advisory_xact_lock(u.k)
        else pg_advisory_xact_lock_shared(u.k) end
      from unnest(array[${keys}], array[${exclusive}]) as u(k, e)`,
  );
}
