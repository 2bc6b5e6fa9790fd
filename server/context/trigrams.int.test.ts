import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows, type DatabaseHandle } from "@/db/client";
import { openTestDatabase, testKinds } from "@/tests/db";
import { trigramSimilarity, trigrams } from "./trigrams";

// Ranking compares a question with each candidate's heading by trigram
// similarity computed in process; it must agree with pg_trgm's, which
// the ranking was tuned with.

const questions = [
  "cacheLife preset profiles",
  "how do I set a cookie in a server action",
  "revalidatTag",
  "use cache: private",
  "next.config.js images remotePatterns",
  "a",
  "I",
  "HTTP² push",
  "Größe ändern",
  "x-forwarded-for header",
  "getServerSideProps vs. generateStaticParams (app router)",
  "   ",
  "",
  "12345 6",
];

const headings = [
  "Preset cache profiles",
  "cacheLife",
  "Setting a cookie",
  "`revalidateTag`",
  "Reference > Parameters",
  "remotePatterns",
  "What is `use cache: private`?",
  "Größe",
  "A",
  "HTTP/2",
  "Migrating from getServerSideProps",
  "",
];

describe.each(testKinds)("trigram similarity against pg_trgm on %s", (kind) => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await handle.close();
  });

  it("gives the database's value for every pair, to single precision", async () => {
    let nonZero = 0;
    for (const q of questions) {
      const rows = await queryRows<{ heading: string; sim: number }>(
        handle.db,
        sql`select h as heading, similarity(${q}, h)::float8 as sim
              from unnest(${sql.raw(
                `array[${headings.map((h) => `'${h.replace(/'/g, "''")}'`).join(", ")}]::text[]`,
              )}) h`,
      );
      const asked = trigrams(q);
      for (const row of rows) {
        const mine = trigramSimilarity(asked, trigrams(row.heading));
        expect([q, row.heading, mine]).toEqual([
          q,
          row.heading,
          Number(row.sim),
        ]);
        if (mine > 0) nonZero++;
      }
    }
    // The pairs are not all trivially unalike.
    expect(nonZero).toBeGreaterThan(15);
  });
});
