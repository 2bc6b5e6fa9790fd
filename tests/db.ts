import postgres from "postgres";
import { openDatabase, type DatabaseHandle } from "@/db/client";
import { newId } from "@/server/runtime";

// Test databases. Every suite runs on embedded PGlite (in memory); when
// TEST_DATABASE_URL is set it runs on PostgreSQL too, in a database of its
// own that is created for the suite and dropped after it.

export type TestKind = "pglite" | "postgres";

export const testKinds: TestKind[] = process.env.TEST_DATABASE_URL
  ? ["pglite", "postgres"]
  : ["pglite"];

function localServerUrl(): URL {
  const url = new URL(process.env.TEST_DATABASE_URL ?? "");
  const local = ["localhost", "127.0.0.1", "::1", "[::1]", ""];
  if (!local.includes(url.hostname)) {
    throw new Error(
      `Refusing to run destructive tests against ${url.hostname}: ` +
        "TEST_DATABASE_URL must point at a local server",
    );
  }

  return url;
}

export async function openTestDatabase(
  kind: TestKind,
): Promise<DatabaseHandle> {
  if (kind === "pglite") return openDatabase({});

  const serverUrl = localServerUrl();
  const name = `flotilla_test_${newId().replaceAll("-", "").slice(0, 16)}`;
  const admin = postgres(serverUrl.toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const handle = await openDatabase({
    url: url.toString(),
    maxConnections: 12,
  });

  return {
    ...handle,
    async close() {
      await handle.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
