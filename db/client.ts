import fs from "node:fs";
import path from "node:path";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import * as schema from "./schema";
import { acquireDataDirLock, DatabaseBusyError } from "./lock";

// This module is the only place that knows which driver is in use. Every
// other module receives a `Database` and writes portable drizzle queries.

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type DatabaseKind = "pglite" | "postgres";

export interface DatabaseHandle {
  db: Database;
  kind: DatabaseKind;
  /** Where the data lives: a directory, "memory" or a redacted URL. */
  location: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** postgres://... selects PostgreSQL; absent selects embedded PGlite. */
  url?: string;
  /** PGlite data directory; absent means in memory (tests). */
  dataDir?: string;
  /** Who holds the embedded database, shown to a second process. */
  owner?: string;
  /** Pool size for PostgreSQL. */
  maxConnections?: number;
  migrate?: boolean;
}

const kinds = new WeakMap<object, DatabaseKind>();

export function databaseKind(db: Database): DatabaseKind {
  return kinds.get(db) ?? "postgres";
}

export function migrationsFolder(): string {
  const fromEnv = process.env.FLOTILLA_MIGRATIONS_DIR;
  if (fromEnv) return path.resolve(fromEnv);

  return path.join(process.cwd(), "db", "migrations");
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";

    return parsed.toString();
  } catch {
    return "postgres://(unparseable url)";
  }
}

async function openPglite(options: OpenOptions): Promise<DatabaseHandle> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { pg_trgm } = await import("@electric-sql/pglite/contrib/pg_trgm");
  const { drizzle } = await import("drizzle-orm/pglite");
  const dataDir = options.dataDir ? path.resolve(options.dataDir) : undefined;
  let release = () => {};
  if (dataDir) {
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    release = acquireDataDirLock(dataDir, options.owner ?? "flotilla");
  }

  try {
    const client = await PGlite.create({
      dataDir,
      extensions: { pg_trgm },
    });
    const db = drizzle({ client, schema }) as unknown as Database;
    kinds.set(db, "pglite");

    return {
      db,
      kind: "pglite",
      location: dataDir ?? "memory",
      async close() {
        await client.close();
        release();
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

async function openPostgres(options: OpenOptions & { url: string }) {
  const { default: postgres } = await import("postgres");
  const { drizzle } = await import("drizzle-orm/postgres-js");
  const client = postgres(options.url, {
    max: options.maxConnections ?? 10,
    onnotice: () => {},
    connect_timeout: 10,
  });
  const db = drizzle({ client, schema }) as unknown as Database;
  kinds.set(db, "postgres");
  const handle: DatabaseHandle = {
    db,
    kind: "postgres",
    location: redact(options.url),
    async close() {
      await client.end({ timeout: 5 });
    },
  };

  return handle;
}

export async function migrateDatabase(handle: DatabaseHandle): Promise<void> {
  const folder = migrationsFolder();
  if (handle.kind === "pglite") {
    const { migrate } = await import("drizzle-orm/pglite/migrator");
    await migrate(handle.db as never, { migrationsFolder: folder });
  } else {
    const { migrate } = await import("drizzle-orm/postgres-js/migrator");
    await migrate(handle.db as never, { migrationsFolder: folder });
  }
}

/** Opens a database of either kind and, unless told not to, migrates it. */
export async function openDatabase(
  options: OpenOptions = {},
): Promise<DatabaseHandle> {
  const handle = options.url
    ? await openPostgres({ ...options, url: options.url })
    : await openPglite(options);
  if (options.migrate !== false) {
    try {
      await migrateDatabase(handle);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  return handle;
}

/** Rows of a raw statement, whichever driver ran it. */
export async function queryRows<T>(
  db: Database,
  statement: ReturnType<typeof sql>,
): Promise<T[]> {
  const result = (await db.execute(statement)) as unknown;
  if (Array.isArray(result)) return result as T[];

  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

interface JournalEntry {
  idx: number;
  tag: string;
  when: number;
}

/** The newest migration applied to this database, by its tag. */
export async function appliedMigration(db: Database): Promise<string | null> {
  const rows = await queryRows<{ created_at: string | number }>(
    db,
    sql`select created_at from drizzle.__drizzle_migrations
        order by created_at desc limit 1`,
  );
  if (rows.length === 0) return null;
  const when = Number(rows[0].created_at);
  const journal = JSON.parse(
    fs.readFileSync(
      path.join(migrationsFolder(), "meta/_journal.json"),
      "utf8",
    ),
  ) as { entries: JournalEntry[] };
  const entry = journal.entries.find((e) => e.when === when);

  return entry?.tag ?? String(when);
}

/** Runs `work` in one transaction. The transaction handle accepts every
 * query a Database does, so helpers take it as they are. */
export function inTransaction<T>(
  db: Database,
  work: (tx: Database) => Promise<T>,
): Promise<T> {
  return db.transaction((tx) => work(tx as unknown as Database));
}

function errorChain(error: unknown): { code?: unknown; message?: unknown }[] {
  const chain: { code?: unknown; message?: unknown }[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 6; depth++) {
    if (typeof current !== "object") break;
    chain.push(current as { code?: unknown; message?: unknown });
    current = (current as { cause?: unknown }).cause;
  }

  return chain;
}

const unreachableCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ETIMEDOUT",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "57P01",
  "57P03",
  "3D000",
]);

/** Whether an error (or what it wraps) says the database cannot be
 * reached, as either driver reports it. */
export function isDatabaseUnavailable(error: unknown): boolean {
  return errorChain(error).some(
    (link) =>
      (typeof link.code === "string" && unreachableCodes.has(link.code)) ||
      link instanceof DatabaseBusyError ||
      (typeof link.message === "string" &&
        /PGlite is closed|database is closed/i.test(link.message)),
  );
}

// PostgreSQL refusals caused by the value sent rather than by our code:
// they are the caller's bad input, never a server fault.
const valueRefusals: Record<string, string> = {
  "22001": "a value is longer than its field allows",
  "22003": "a number is out of range",
  "22007": "a date or time is not valid",
  "22008": "a date or time is out of range",
  "22021": "text contains a character that cannot be stored (NUL)",
  "22P02": "a value has the wrong format",
  "22P05": "text contains a character that cannot be stored",
  "54000": "a value is too large to index",
};

/** The reason PostgreSQL refused a value, or null for any other error. */
export function databaseValueRefusal(error: unknown): string | null {
  for (const link of errorChain(error)) {
    if (typeof link.code === "string" && link.code in valueRefusals) {
      return valueRefusals[link.code];
    }
  }

  return null;
}
