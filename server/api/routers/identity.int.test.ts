import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRPCError } from "@trpc/server";
import type { DatabaseHandle } from "@/db/client";
import { createCaller } from "@/server/api/root";
import { asUser, cli, uniqueEmail } from "@/server/identity/test-fixtures";
import { createUser, setupFirstAdmin } from "@/server/identity/users";
import { openTestDatabase, testKinds } from "@/tests/db";

describe.each(testKinds)("identity router on %s", (kind) => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await openTestDatabase(kind);
  });
  afterAll(async () => handle.close());

  it("reports setup status to anybody and refuses the rest unsigned", async () => {
    const anonymous = createCaller({ db: handle.db, actor: null });
    expect(await anonymous.identity.setupStatus()).toEqual({
      needsSetup: true,
    });
    await setupFirstAdmin(handle.db, {
      email: "root@example.test",
      password: "password1",
    });
    expect(await anonymous.identity.setupStatus()).toEqual({
      needsSetup: false,
    });
    await expect(anonymous.identity.projects.list()).rejects.toMatchObject({
      code: "UNAUTHORIZED",
    });
  });

  it("maps domain errors to tRPC codes with field details", async () => {
    const person = await createUser(handle.db, cli, {
      email: uniqueEmail(),
      password: "password1",
      role: "operator",
    });
    const actor = asUser(person);
    if (actor.kind !== "user") throw new Error("expected a user actor");
    const caller = createCaller({ db: handle.db, actor });

    const project = await caller.identity.projects.create({ slug: "alpha" });
    expect(project.slug).toBe("alpha");
    const duplicate = await caller.identity.projects
      .create({ slug: "alpha" })
      .catch((error: unknown) => error);
    expect(duplicate).toBeInstanceOf(TRPCError);
    expect(duplicate).toMatchObject({ code: "CONFLICT" });

    const made = await caller.identity.agents.create({
      project: "alpha",
      name: "worker",
    });
    expect(made.secret).toMatch(/^flt_/);
    const paused = await caller.identity.agents.pause({
      project: "alpha",
      agent: "worker",
    });
    expect(paused.status).toBe("paused");
    const tokens = await caller.identity.tokens.list({ project: "alpha" });
    expect(tokens).toHaveLength(1);
    const audit = await caller.identity.audit.list({ project: "alpha" });
    expect(audit.map((row) => row.action)).toEqual([
      "agent.pause",
      "agent.create",
      "project.create",
    ]);
    const overview = await caller.identity.projects.overview({
      project: "alpha",
    });
    expect(overview.agents.byStatus).toEqual({ paused: 1 });
  });
});
