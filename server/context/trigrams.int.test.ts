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

// Headings in scripts whose letters carry marks (Devanagari and Thai
// vowel signs, Arabic and Hebrew vowel points), letter-like numbers and
// symbols, and letters whose lower case depends on where they stand. The
// pairs share some trigrams, so a disagreement shows as a different share.
const oddPairs: Array<[string, string]> = [
  ["deploy", "Deploy — हिन्दी गाइड"],
  ["हिन्दी", "हिन्दी भाषा"],
  ["deploy", "Deploy: ภาษาไทย สวัสดี"],
  ["deploy", "Deploy مَرْحَبًا"],
  ["deploy", "Deploy שָׁלוֹם"],
  ["chapter", "Chapter Ⅻ"],
  ["ⅻ", "Chapter Ⅻ"],
  ["Ⓐ", "Ⓐ plan"],
  ["istanbul", "İstanbul"],
  ["İstanbul", "İstanbul office"],
  ["οδηγος", "ΟΔΗΓΟΣ ρυθμίσεων"],
  ["σοφος", "ΣΟΦΟΣ"],
  ["café", "cafe\u0301 menu"],
  ["x²", "x² and x³"],
  ["rocket", "🚀 rocket launch 🚀"],
  ["like%pattern", "like%pattern and under_score"],
  ["c program files", "C:\\Program Files\\app"],
  ["strasse", "Straße"],
  ["ﬁle", "file"],
];

describe.each(testKinds)(
  "trigram similarity against pg_trgm on letters with marks on %s",
  (kind) => {
    let handle: DatabaseHandle;
    beforeAll(async () => {
      handle = await openTestDatabase(kind);
    });
    afterAll(async () => {
      await handle.close();
    });

    it("reads a word's marks as part of it and lowercases letter by letter, as the database does", async () => {
      const rows = await queryRows<{ a: string; b: string; sim: number }>(
        handle.db,
        sql`select p->>0 as a, p->>1 as b,
                   similarity(p->>0, p->>1)::float8 as sim
              from jsonb_array_elements(${JSON.stringify(oddPairs)}::jsonb) p`,
      );
      expect(rows).toHaveLength(oddPairs.length);
      for (const row of rows) {
        const mine = trigramSimilarity(trigrams(row.a), trigrams(row.b));
        expect([row.a, row.b, mine]).toEqual([row.a, row.b, Number(row.sim)]);
      }
    });
  },
);
