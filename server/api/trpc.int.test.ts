import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { openTestDatabase, testKinds } from "@/tests/db";
import { createCaller } from "./root";

describe.each(testKinds)("console requests on %s", (kind) => {
  it("answer SERVICE_UNAVAILABLE when the database is gone", async () => {
    const handle = await openTestDatabase(kind);
    await handle.close();
    const caller = createCaller({ db: handle.db, actor: null });

    const failure = await caller.identity
      .setupStatus()
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TRPCError);
    expect((failure as TRPCError).code).toBe("SERVICE_UNAVAILABLE");
  });
});
