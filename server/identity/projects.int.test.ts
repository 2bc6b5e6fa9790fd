import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { openTestDatabase, testKinds } from "@/tests/db";
import { requireProjectRole } from "./access";
import { createAgent } from "./agents";
import { listAudit } from "./audit";
import { projectOverview } from "./overview";
import {
  createPersonalToken,
  listPersonalTokens,
  revokePersonalToken,
} from "./personal-tokens";
import {
  createProject,
  listMembers,
  listProjects,
  setMemberRole,
} from "./projects";
import { authenticatePerson } from "./tokens";
import { asUser, cli, uniqueEmail } from "./test-fixtures";
import { createUser } from "./users";

describe.each(testKinds)("projects and personal tokens on %s", (kind) => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await openTestDatabase(kind);
  });
  afterAll(async () => handle.close());

  const person = (role: "admin" | "operator" | "viewer" = "operator") =>
    createUser(handle.db, cli, {
      email: uniqueEmail(role),
      password: "password1",
      role,
    });

  it("makes the creator the project's admin", async () => {
    const creator = asUser(await person("operator"));
    const project = await createProject(handle.db, creator, {
      slug: "web-app",
      name: "Web app",
    });
    expect(project).toMatchObject({ slug: "web-app", name: "Web app" });
    const access = await requireProjectRole(
      handle.db,
      creator,
      "web-app",
      "admin",
    );
    expect(access.role).toBe("admin");
    const listed = await listProjects(handle.db, creator);
    expect(listed.find((p) => p.slug === "web-app")?.role).toBe("admin");
    const members = await listMembers(handle.db, creator, {
      project: "web-app",
    });
    expect(members.map((m) => m.role)).toEqual(["admin"]);
  });

  it("checks slugs and refuses a taken one on the slug field", async () => {
    await expect(
      createProject(handle.db, cli, { slug: "Bad Slug!" }),
    ).rejects.toMatchObject({
      status: 400,
      details: [{ path: "slug", message: expect.stringMatching(/lowercase/) }],
    });
    await expect(
      createProject(handle.db, cli, { slug: "x" }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      createProject(handle.db, cli, { slug: "web-app" }),
    ).rejects.toMatchObject({
      status: 409,
      details: [{ path: "slug", message: expect.any(String) }],
    });
  });

  it("keeps viewers read-only and lets admins give roles", async () => {
    const viewer = asUser(await person("viewer"));
    await expect(
      createProject(handle.db, viewer, { slug: "nope" }),
    ).rejects.toMatchObject({ status: 403 });
    await createProject(handle.db, cli, { slug: "ops" });
    await expect(
      createAgent(handle.db, viewer, { project: "ops", name: "a1" }),
    ).rejects.toMatchObject({ status: 403 });

    await setMemberRole(handle.db, cli, {
      project: "ops",
      email: (viewer as { email: string }).email,
      role: "admin",
    });
    const made = await createAgent(handle.db, viewer, {
      project: "ops",
      name: "a1",
    });
    expect(made.agent.name).toBe("a1");
    await expect(
      setMemberRole(handle.db, cli, {
        project: "ops",
        email: "nobody@example.test",
        role: "viewer",
      }),
    ).rejects.toMatchObject({ status: 404 });
    const audit = await listAudit(handle.db, viewer, { project: "ops" });
    expect(audit.map((row) => row.action)).toEqual([
      "agent.create",
      "member.set-role",
      "project.create",
    ]);
  });

  it("counts a project's goals, tasks, agents and sessions", async () => {
    const overview = await projectOverview(handle.db, cli, { project: "ops" });
    expect(overview).toMatchObject({
      goals: { total: 0 },
      tasks: {},
      agents: { total: 1, byStatus: { active: 1 } },
      sessions: 0,
    });
  });

  it("issues personal tokens that act as their owner", async () => {
    const owner = await person("viewer");
    const made = await createPersonalToken(handle.db, cli, {
      email: owner.email,
      name: "laptop",
    });
    const actor = await authenticatePerson(handle.db, `Bearer ${made.secret}`);
    expect(actor).toMatchObject({ userId: owner.id, instanceRole: "viewer" });

    const mine = await listPersonalTokens(handle.db, asUser(owner));
    expect(mine.map((t) => t.name)).toEqual(["laptop"]);
    const stranger = asUser(await person("admin"));
    await expect(
      revokePersonalToken(handle.db, stranger, { tokenId: made.token.id }),
    ).rejects.toMatchObject({ status: 404 });
    await expect(
      createPersonalToken(handle.db, stranger, { email: owner.email }),
    ).rejects.toMatchObject({ status: 403 });

    await revokePersonalToken(handle.db, asUser(owner), {
      tokenId: made.token.id,
    });
    await expect(
      authenticatePerson(handle.db, `Bearer ${made.secret}`),
    ).rejects.toMatchObject({ status: 403, message: /revoked/ });
  });
});
