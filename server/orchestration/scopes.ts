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
// The same rule is written in SQL in scopeOverlapSql below and in the
// migration that filled in the roots of existing tasks.

import { createHash } from "node:crypto";
import { sql, type SQL } from "drizzle-orm";
import { queryRows, type Database } from "@/db/client";

const WILDCARD = /[*?[{]/;

/** Trims "./", leading and trailing slashes and doubled slashes. */
export function normalizeGlob(glob: string): string {
  return glob
    .trim()
    .replace(/^(\.\/|\/)+/, "")
    .replace(/\/{2,}/g, "/")
    .replace(/\/+$/, "");
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

function globToRegExp(glob: string): RegExp {
  let pattern = "";
  const text = normalizeGlob(glob);
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i]!;
    if (char === "*") {
      if (text[i + 1] === "*") {
        // "**/" matches any number of whole directories, "**" anything.
        const slash = text[i + 2] === "/";
        pattern += slash ? "(?:.*/)?" : ".*";
        i += slash ? 2 : 1;
      } else {
        pattern += "[^/]*";
      }
    } else if (char === "?") {
      pattern += "[^/]";
    } else if (char === "{") {
      const end = text.indexOf("}", i);
      if (end === -1) {
        pattern += "\\{";
        continue;
      }
      const options = text.slice(i + 1, end).split(",");
      pattern += `(?:${options.map(escapeRegExp).join("|")})`;
      i = end;
    } else if (char === "[") {
      const end = text.indexOf("]", i);
      if (end === -1) {
        pattern += "\\[";
        continue;
      }
      const set = text.slice(i + 1, end).replace(/^!/, "^");
      pattern += `[${set.replace(/\\/g, "\\\\")}]`;
      i = end;
    } else {
      pattern += escapeRegExp(char);
    }
  }

  // A glob naming a directory covers what is inside it.
  return new RegExp(`^${pattern}(?:/.*)?$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** Whether a concrete path is matched by a glob. */
export function pathMatches(path: string, glob: string): boolean {
  // A glob spelling the path itself holds it, even when the path has
  // characters a glob reads as a pattern (Next.js's "app/[slug]/page.tsx").
  const target = normalizeGlob(path);
  const pattern = normalizeGlob(glob);
  if (target === pattern || target.startsWith(`${pattern}/`)) return true;

  return globToRegExp(glob).test(target);
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
