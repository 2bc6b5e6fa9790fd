import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { apiTokens } from "@/db/schema";
import { agentRoute } from "@/server/api/http";
import { assertAgentActive } from "@/server/guardrails/agents";
import { setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import type { Actor } from "./actor";
import { createAgentToken, listTokens, revokeToken } from "./agent-tokens";
import { createAgent, listAgents, pauseAgent, resumeAgent } from "./agents";
import { listAudit } from "./audit";
import { createProject, setMemberRole } from "./projects";
import { asUser, cli, uniqueEmail } from "./test-fixtures";
import { createUser } from "./users";

// A stand-in agent API route: the real bearer wrapper around a handler
// that only says who called.
const whoAmI = agentRoute({
  handler: async ({ actor }) => ({ agent: actor.agentName }),
});

function callAgentApi(secret: string) {
  return whoAmI(
    new Request("http://localhost/api/agent/v1/whoami", {
      headers: { authorization: `Bearer ${secret}` },
    }),
    { params: Promise.resolve({}) },
  );
}

describe.each(testKinds)("agents and tokens on %s", (kind) => {
  let handle: DatabaseHandle;
  let slug: string;
  let admin: Actor;
  let operator: Actor;
  let viewer: Actor;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    const make = async (role: "admin" | "operator" | "viewer") =>
      createUser(handle.db, cli, {
        email: uniqueEmail(role),
        password: "password1",
        role: role === "admin" ? "operator" : "viewer",
      });
    const owner = await make("admin");
    admin = asUser(owner);
    slug = `fleet-${kind}`;
    await createProject(handle.db, admin, { slug, name: "Fleet" });
    const op = await make("operator");
    await setMemberRole(handle.db, admin, {
      project: slug,
      email: op.email,
      role: "operator",
    });
    operator = asUser(op);
    viewer = asUser(await make("viewer"));
  });
  afterAll(async () => {
    setClock(null);
    useDatabase(null);
    await handle.close();
  });

  it("creates an agent whose first token works once shown", async () => {
    const created = await createAgent(handle.db, admin, {
      project: slug,
      name: "builder-1",
    });
    expect(created.secret).toMatch(/^flt_/);
    expect(created.token.prefix).toBe(created.secret.slice(0, 12));
    expect(created.token).not.toHaveProperty("tokenHash");

    const response = await callAgentApi(created.secret);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ agent: "builder-1" });

    const [agent] = await listAgents(handle.db, viewer, { project: slug });
    expect(agent).toMatchObject({ name: "builder-1", status: "active" });
    expect(agent.lastTokenUseAt).toBeInstanceOf(Date);
    expect(agent.liveTokens).toBe(1);
  });

  it("refuses a second agent of the same name with 409 on name", async () => {
    await expect(
      createAgent(handle.db, admin, { project: slug, name: "builder-1" }),
    ).rejects.toMatchObject({
      status: 409,
      details: [{ path: "name", message: expect.any(String) }],
    });
  });

  it("lets operators pause and resume, viewers neither, and audits it", async () => {
    await expect(
      pauseAgent(handle.db, viewer, { project: slug, agent: "builder-1" }),
    ).rejects.toMatchObject({ status: 403 });
    const paused = await pauseAgent(handle.db, operator, {
      project: slug,
      agent: "builder-1",
      reason: "runaway spend",
    });
    expect(paused).toMatchObject({
      status: "paused",
      pausedReason: "runaway spend",
    });
    await expect(assertAgentActive(handle.db, paused.id)).rejects.toThrow(
      /paused by an operator: runaway spend/,
    );

    await resumeAgent(handle.db, operator, {
      project: slug,
      agent: "builder-1",
    });
    await expect(assertAgentActive(handle.db, paused.id)).resolves.toBe(
      undefined,
    );
    const actions = (await listAudit(handle.db, viewer, { project: slug })).map(
      (row) => `${row.action} by ${row.actorLabel}`,
    );
    expect(actions.slice(0, 2)).toEqual([
      `agent.resume by ${(operator as { email: string }).email}`,
      `agent.pause by ${(operator as { email: string }).email}`,
    ]);
  });

  it("revokes a token: the agent API then answers 403 revoked", async () => {
    const issued = await createAgentToken(handle.db, admin, {
      project: slug,
      agent: "builder-1",
      name: "ci runner",
    });
    expect((await callAgentApi(issued.secret)).status).toBe(200);
    await expect(
      revokeToken(handle.db, operator, {
        project: slug,
        tokenId: issued.token.id,
      }),
    ).rejects.toMatchObject({ status: 403 });

    const revoked = await revokeToken(handle.db, admin, {
      project: slug,
      tokenId: issued.token.id,
    });
    expect(revoked.state).toBe("revoked");
    const response = await callAgentApi(issued.secret);
    expect(response.status).toBe(403);
    const body = (await response.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(/revoked/);

    const audit = await listAudit(handle.db, viewer, { project: slug });
    expect(audit[0]).toMatchObject({
      action: "token.revoke",
      targetId: issued.token.id,
    });
  });

  it("lists tokens with prefix and state, never the hash", async () => {
    const tokens = await listTokens(handle.db, viewer, { project: slug });
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    for (const token of tokens) {
      expect(token).not.toHaveProperty("tokenHash");
      expect(token.prefix).toMatch(/^flt_/);
      expect(token.agentName).toBe("builder-1");
    }
    expect(tokens.map((t) => t.state).sort()).toContain("revoked");
  });

  it("expires a token after its days: 401 naming the expiry", async () => {
    const start = new Date("2030-01-01T00:00:00Z");
    setClock(() => start);
    const issued = await createAgentToken(handle.db, admin, {
      project: slug,
      agent: "builder-1",
      expiresInDays: 2,
    });
    expect(issued.token.expiresAt).toEqual(new Date("2030-01-03T00:00:00Z"));
    expect((await callAgentApi(issued.secret)).status).toBe(200);
    setClock(() => new Date("2030-01-03T00:00:01Z"));
    const response = await callAgentApi(issued.secret);
    expect(response.status).toBe(401);
    expect(await response.text()).toMatch(/expired/);
    const [row] = await handle.db
      .select()
      .from(apiTokens)
      .where(eq(apiTokens.id, issued.token.id));
    expect(row.tokenHash).not.toContain(issued.secret);
    setClock(null);
  });

  it("hides another project's agents: 404, not a leak", async () => {
    const other = await createUser(handle.db, cli, {
      email: uniqueEmail(),
      password: "password1",
      role: "operator",
    });
    await createProject(handle.db, asUser(other), { slug: `other-${kind}` });
    const agentActor: Actor = {
      kind: "agent",
      agentId: "00000000-0000-4000-8000-000000000000",
      agentName: "x",
      projectId: "00000000-0000-4000-8000-000000000001",
      tokenId: "t",
    };
    await expect(
      listAgents(handle.db, agentActor, { project: slug }),
    ).rejects.toMatchObject({ status: 404 });
  });
});
