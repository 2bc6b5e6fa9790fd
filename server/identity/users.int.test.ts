import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import type { DatabaseHandle } from "@/db/client";
import { account, auditLog } from "@/db/schema";
import { openTestDatabase, testKinds } from "@/tests/db";
import { buildAuth } from "./auth";
import { asUser, cli, uniqueEmail } from "./test-fixtures";
import { createUser, needsSetup, setupFirstAdmin } from "./users";

const settings = {
  baseUrl: "http://localhost:3999",
  authSecret: "test-secret-test-secret-test-secret-0123",
};

describe.each(testKinds)("users on %s", (kind) => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await openTestDatabase(kind);
  });
  afterAll(async () => handle.close());

  it("offers setup once: of two concurrent calls one makes the admin", async () => {
    expect(await needsSetup(handle.db)).toBe(true);
    const results = await Promise.allSettled([
      setupFirstAdmin(handle.db, {
        email: "first@example.test",
        password: "correct horse",
      }),
      setupFirstAdmin(handle.db, {
        email: "second@example.test",
        password: "correct horse",
      }),
    ]);
    const made = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r) => r.status === "rejected");
    expect(made).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({
      code: "conflict",
      message: "Setup already done",
    });
    expect(await needsSetup(handle.db)).toBe(false);
    await expect(
      setupFirstAdmin(handle.db, {
        email: "late@example.test",
        password: "correct horse",
      }),
    ).rejects.toMatchObject({ status: 409 });
  });

  it("creates a user better-auth signs in, and refuses a wrong password", async () => {
    const email = uniqueEmail("Op").toUpperCase();
    const created = await createUser(handle.db, cli, {
      email,
      password: "s3cret-pass",
      role: "operator",
    });
    expect(created.email).toBe(email.toLowerCase());
    const [credential] = await handle.db
      .select()
      .from(account)
      .where(eq(account.userId, created.id));
    expect(credential.providerId).toBe("credential");
    expect(credential.password).not.toContain("s3cret-pass");

    const auth = buildAuth(handle.db, settings);
    const signIn = (password: string) =>
      auth.handler(
        new Request(`${settings.baseUrl}/api/auth/sign-in/email`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            origin: settings.baseUrl,
          },
          body: JSON.stringify({ email: created.email, password }),
        }),
      );
    const ok = await signIn("s3cret-pass");
    expect(ok.status).toBe(200);
    expect(ok.headers.get("set-cookie")).toContain("session_token");
    const body = (await ok.json()) as { user: { id: string; role: string } };
    expect(body.user).toMatchObject({ id: created.id, role: "operator" });

    const wrong = await signIn("not-the-password");
    expect(wrong.status).toBe(401);
  });

  it("refuses a duplicate email with 409 on the email field", async () => {
    const email = uniqueEmail();
    await createUser(handle.db, cli, { email, password: "password1" });
    await expect(
      createUser(handle.db, cli, { email, password: "password2" }),
    ).rejects.toMatchObject({
      status: 409,
      details: [{ path: "email", message: expect.stringMatching(/exists/) }],
    });
  });

  it("validates input with field paths", async () => {
    await expect(
      createUser(handle.db, cli, {
        email: "nope",
        password: "short",
        role: "owner" as "admin",
      }),
    ).rejects.toMatchObject({
      status: 400,
      details: expect.arrayContaining([
        expect.objectContaining({ path: "email" }),
        expect.objectContaining({ path: "password" }),
        expect.objectContaining({ path: "role" }),
      ]),
    });
  });

  it("lets only instance admins create users, and audits it", async () => {
    const operator = await createUser(handle.db, cli, {
      email: uniqueEmail(),
      password: "password1",
    });
    await expect(
      createUser(handle.db, asUser(operator), {
        email: uniqueEmail(),
        password: "password1",
      }),
    ).rejects.toMatchObject({ status: 403 });
    const audited = await handle.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.targetId, operator.id));
    expect(audited.map((row) => row.action)).toEqual(["user.create"]);
  });
});
