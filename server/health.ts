import { sql } from "drizzle-orm";
import { appliedMigration, type DatabaseHandle } from "@/db/client";

export interface Health {
  status: "ok";
  // Where the data lives is not shown: the endpoint needs no sign-in.
  database: { kind: DatabaseHandle["kind"] };
  migration: string | null;
}

/** Round-trips to the database and reports the newest applied migration. */
export async function checkHealth(handle: DatabaseHandle): Promise<Health> {
  await handle.db.execute(sql`select 1`);

  return {
    status: "ok",
    database: { kind: handle.kind },
    migration: await appliedMigration(handle.db),
  };
}
