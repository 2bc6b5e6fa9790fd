import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { auditLog } from "@/db/schema";
import { createCaller } from "@/server/api/root";
import { openTestDatabase, testKinds } from "@/tests/db";
import { trpcFailure } from "@/tests/failures";
import { makeProject, makeUser } from "@/tests/fixtures";
import { orchestrationSettingsFor } from "./settings";

describe.each(testKinds)("orchestration settings on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
  });
  afterAll(async () => handle.close());

  async function setup() {
    const db = handle.db;
    const project = await makeProject(db);
    const caller = async (role: "admin" | "operator" | "viewer") => {
      const made = await makeUser(db, role);

      return createCaller({ db, actor: made.actor });
    };

    return {
      db,
      project,
      admin: await caller("admin"),
      operator: await caller("operator"),
      viewer: await caller("viewer"),
    };
  }

  it("shows the defaults until an admin changes them, audited", async () => {
    const { db, project, admin, viewer } = await setup();
    const input = { project: project.slug };
    expect(await viewer.orchestration.settings.get(input)).toEqual({
      maxAttempts: 3,
      defaultLeaseSeconds: 300,
      maxLeaseSeconds: 3600,
      adminApprovalAboveUsd: null,
      protectedPaths: [],
      askTimeoutSeconds: 600,
      canEdit: false,
    });

    await admin.orchestration.settings.update({
      ...input,
      maxAttempts: 5,
      maxLeaseSeconds: 7200,
    });
    // Fields left out keep their value.
    expect(await orchestrationSettingsFor(db, project.id)).toEqual({
      maxAttempts: 5,
      defaultLeaseSeconds: 300,
      maxLeaseSeconds: 7200,
    });
    expect(await admin.orchestration.settings.get(input)).toMatchObject({
      canEdit: true,
    });
    const [entry] = await db
      .select()
      .from(auditLog)
      .where(eq(auditLog.projectId, project.id));
    expect(entry.action).toBe("orchestration.settings");
    expect(entry.details).toMatchObject({
      before: { maxAttempts: 3, maxLeaseSeconds: 3600 },
      after: { maxAttempts: 5, maxLeaseSeconds: 7200 },
    });
  });

  it("lets only admins change them", async () => {
    const { project, operator, viewer } = await setup();
    for (const caller of [operator, viewer]) {
      const failure = await trpcFailure(
        caller.orchestration.settings.update({
          project: project.slug,
          maxAttempts: 4,
        }),
      );
      expect(failure.code).toBe("FORBIDDEN");
      expect(failure.message).toContain("needs the admin role");
    }
  });

  it.each([
    [{ maxAttempts: 0 }, "maxAttempts", "Must be at least 1"],
    [{ maxAttempts: 21 }, "maxAttempts", "Must be at most 20"],
    [{ maxAttempts: 2.5 }, "maxAttempts", "Must be a whole number"],
    [{ defaultLeaseSeconds: 9 }, "defaultLeaseSeconds", "at least 10"],
    [{ maxLeaseSeconds: 86_401 }, "maxLeaseSeconds", "at most 86400"],
  ])("refuses %o with a field error", async (change, path, message) => {
    const { project, admin } = await setup();
    const failure = await trpcFailure(
      admin.orchestration.settings.update({ project: project.slug, ...change }),
    );
    expect(failure.code).toBe("BAD_REQUEST");
    expect(failure.details).toEqual([
      { path, message: expect.stringContaining(message) },
    ]);
  });

  it("keeps the default lease within the maximum", async () => {
    const { db, project, admin } = await setup();
    const input = { project: project.slug };
    const longDefault = await trpcFailure(
      admin.orchestration.settings.update({
        ...input,
        defaultLeaseSeconds: 4000,
      }),
    );
    expect(longDefault.details).toEqual([
      {
        path: "defaultLeaseSeconds",
        message: "Must be at most the maximum lease (3600 seconds)",
      },
    ]);
    // Lowering the maximum under the stored default is refused too.
    const shortMax = await trpcFailure(
      admin.orchestration.settings.update({ ...input, maxLeaseSeconds: 200 }),
    );
    expect(shortMax.details).toEqual([
      {
        path: "maxLeaseSeconds",
        message: "Must be at least the default lease (300 seconds)",
      },
    ]);

    await admin.orchestration.settings.update({
      ...input,
      defaultLeaseSeconds: 4000,
      maxLeaseSeconds: 4000,
    });
    expect(await orchestrationSettingsFor(db, project.id)).toMatchObject({
      defaultLeaseSeconds: 4000,
      maxLeaseSeconds: 4000,
    });
  });
});
