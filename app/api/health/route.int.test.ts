import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { useDatabase } from "@/db/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { GET } from "./route";

// The newest migration shipped in the repository is the one applied.
const journal = JSON.parse(
  readFileSync("db/migrations/meta/_journal.json", "utf8"),
) as { entries: { tag: string }[] };
const newest = journal.entries.at(-1)!.tag;

describe.each(testKinds)("GET /api/health on %s", (kind) => {
  afterEach(() => useDatabase(null));

  it("answers 200 with the database kind and migration", async () => {
    const handle = await openTestDatabase(kind);
    useDatabase(handle);
    try {
      const response = await GET();
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        status: "ok",
        database: { kind },
        migration: newest,
      });
    } finally {
      await handle.close();
    }
  });

  it("answers 503 when the database cannot be reached", async () => {
    const handle = await openTestDatabase(kind);
    await handle.close();
    useDatabase(handle);

    const response = await GET();
    expect(response.status).toBe(503);
    const body = await response.json();
    expect(body.status).toBe("unavailable");
    expect(body.error.code).toBe("unavailable");
  });
});
