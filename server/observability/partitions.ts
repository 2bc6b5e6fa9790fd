import { sql } from "drizzle-orm";
import { queryRows, type Database } from "@/db/client";

// Raw events live in one partition per calendar month (UTC) of their
// occurred_at: a partition named events_YYYY_MM holds that month. Ingest
// makes the partitions a batch needs before it stores the batch; retention
// (retention.ts) drops whole partitions once every project is done with
// them, which costs nothing like deleting millions of rows.

/** The partitions known to exist, per database handle, so a batch of a
 * month already seen costs no catalog query. */
const known = new WeakMap<Database, Set<string>>();

function knownFor(db: Database): Set<string> {
  let names = known.get(db);
  if (!names) {
    names = new Set();
    known.set(db, names);
  }

  return names;
}

export interface MonthPartition {
  name: string;
  from: Date;
  to: Date;
}

/** The partition that holds events of `at`. */
export function partitionFor(at: Date): MonthPartition {
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  const from = new Date(Date.UTC(year, month, 1));
  const to = new Date(Date.UTC(year, month + 1, 1));
  const name = `events_${String(year).padStart(4, "0")}_${String(month + 1).padStart(2, "0")}`;

  return { name, from, to };
}

/** Makes sure every month of `times` has its partition. Safe to run from
 * several processes at once: creation is serialised by an advisory lock
 * and is a no-op for a partition that exists. */
export async function ensureEventPartitions(
  db: Database,
  times: Iterable<Date>,
): Promise<void> {
  const names = knownFor(db);
  const needed = new Map<string, MonthPartition>();
  for (const at of times) {
    const partition = partitionFor(at);
    if (!names.has(partition.name)) needed.set(partition.name, partition);
  }
  if (needed.size === 0) return;

  for (const { name } of await listEventPartitions(db)) names.add(name);
  const missing = [...needed.values()].filter((p) => !names.has(p.name));
  if (missing.length === 0) return;

  await db.transaction(async (tx) => {
    await tx.execute(
      sql`select pg_advisory_xact_lock(hashtext('flotilla.event_partitions'))`,
    );
    for (const partition of missing.sort((a, b) => +a.from - +b.from)) {
      // December 9999 ends in a year ISO text cannot write; the last
      // partition runs to MAXVALUE instead.
      const to =
        partition.to.getUTCFullYear() > 9999
          ? "maxvalue"
          : `'${partition.to.toISOString()}'`;
      await tx.execute(
        sql.raw(
          `create table if not exists "${partition.name}" partition of "events" ` +
            `for values from ('${partition.from.toISOString()}') to (${to})`,
        ),
      );
    }
  });
  for (const partition of missing) names.add(partition.name);
}

/** Forgets what this process knows of partitions on `db`, after
 * retention dropped some or when an insert found one missing. */
export function forgetEventPartitions(db: Database): void {
  known.delete(db);
}

/** The event partitions that exist, oldest first. */
export async function listEventPartitions(
  db: Database,
): Promise<MonthPartition[]> {
  const rows = await queryRows<{ name: string }>(
    db,
    sql`select c.relname as name
        from pg_inherits i
        join pg_class c on c.oid = i.inhrelid
        join pg_class p on p.oid = i.inhparent
        where p.relname = 'events'
        order by c.relname`,
  );
  const partitions: MonthPartition[] = [];
  for (const { name } of rows) {
    const match = /^events_(\d{4})_(\d{2})$/.exec(name);
    if (!match) continue;
    const from = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1));
    partitions.push({ ...partitionFor(from), name });
  }

  return partitions;
}

/** True for PostgreSQL's error when a row has no partition to go to. */
export function isMissingPartition(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth += 1) {
    const code = (current as { code?: unknown }).code;
    const message = String((current as { message?: unknown }).message ?? "");
    if (code === "23514" && message.includes("no partition")) return true;
    current = (current as { cause?: unknown }).cause;
  }

  return false;
}
