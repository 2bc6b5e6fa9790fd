import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { openTestDatabase, testKinds } from "@/tests/db";
import { checkHealth } from "./health";

describe.each(testKinds)("health on %s", (kind) => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await openTestDatabase(kind);
  });
  afterAll(async () => handle.close());

  it("reports the database kind and the applied migration", async () => {
    const health = await checkHealth(handle);
    expect(health.database.kind).toBe(kind);
    expect(health.migration).toBe("0000_init");
  });
});
