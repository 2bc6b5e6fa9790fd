import { config } from "@/server/config";
import { openDatabase, type DatabaseHandle } from "./client";

// The process-wide database. Next.js may evaluate this module more than once
// (one copy per route bundle), so the handle lives on globalThis.

const globalKey = Symbol.for("flotilla.database");
type Holder = { [globalKey]?: Promise<DatabaseHandle> };

export function getDatabase(
  owner = "the Flotilla console",
): Promise<DatabaseHandle> {
  const holder = globalThis as Holder;
  if (process.env.NEXT_PHASE === "phase-production-build") {
    // A page that reads data while being prerendered would bake one
    // moment's answer into the build; such pages must render per request.
    throw new Error("The database is not opened during `next build`");
  }
  if (!holder[globalKey]) {
    const settings = config();
    const opening = openDatabase({
      url: settings.DATABASE_URL,
      dataDir: settings.DATABASE_URL ? undefined : settings.FLOTILLA_DATA_DIR,
      owner,
    });
    // A failed open is not cached: the next request tries again.
    opening.catch(() => {
      if (holder[globalKey] === opening) delete holder[globalKey];
    });
    holder[globalKey] = opening;
  }

  return holder[globalKey];
}

/** Tests install their own database for transports to use. */
export function useDatabase(handle: DatabaseHandle | null): void {
  const holder = globalThis as Holder;
  if (handle) holder[globalKey] = Promise.resolve(handle);
  else delete holder[globalKey];
}

export async function closeDatabase(): Promise<void> {
  const holder = globalThis as Holder;
  const opening = holder[globalKey];
  delete holder[globalKey];
  if (opening) await (await opening).close();
}
