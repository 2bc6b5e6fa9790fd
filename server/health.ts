import { sql } from "drizzle-orm";
import { appliedMigration, type DatabaseHandle } from "@/db/client";

export interface Health {
  status: "ok";
  database: { kind: DatabaseHandle["kind"]; location: string };
  migration: string | null;
}

/** Round-trips to the database and reports the newest applied migration. */
export async function checkHealth(handle: DatabaseHandle): Promise<Health> {
  await handle.db.execute(sql`select 1`);

  return {
    status: "ok",
    database: { kind: handle.kind, location: handle.location },
    migration: await appliedMigration(handle.db),
  };
}
