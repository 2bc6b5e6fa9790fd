import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { agents, auditLog, goals, tasks } from "@/db/schema";
import { createCaller } from "@/server/api/root";
import { newId, now, setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { pinClock, trpcFailure } from "@/tests/failures";
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import { authenticateAgent } from "./tokens";

describe.each(testKinds)("agent capabilities and presence on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
  });
  afterAll(async () => handle.close());
  afterEach(() => setClock(null));

  async function setup() {
    const db = handle.db;
    const project = await makeProject(db);
    const made = await makeAgent(db, project.id, "builder");
    const caller = async (role: "admin" | "operator" | "viewer") =>
      createCaller({ db, actor: (await makeUser(db, role)).actor });

    return {
      db,
      project,
      made,
      admin: await caller("admin"),
      operator: await caller("operator"),
      viewer: await caller("viewer"),
    };
  }

  it("operators replace an agent's tags, audited; viewers may not", async () => {
    const { db, project, operator, viewer } = await setup();
    const input = { project: project.slug, agent: "builder" };
    const updated = await operator.identity.agents.setCapabilities({
      ...input,
      capabilities: [" typescript ", "migrations", "typescript"],
    });
    expect(updated.capabilities).toEqual(["typescript", "migrations"]);
    const [listed] = await viewer.identity.agents.list({
      project: project.slug,
    });
    expect(listed.capabilities).toEqual(["typescript", "migrations"]);
    const [entry] = await db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, "agent.capabilities"));
    expect(entry.details).toMatchObject({
      before: [],
      after: ["typescript", "migrations"],
    });

    const refused = await trpcFailure(
      viewer.identity.agents.setCapabilities({ ...input, capabilities: [] }),
    );
    expect(refused.code).toBe("FORBIDDEN");
  });

  it.each([
    [[""], "capabilities.0", "must not be empty"],
    [["ok", "x".repeat(101)], "capabilities.1", "at most 100 characters"],
    [
      Array.from({ length: 51 }, (_, i) => `tag-${i}`),
      "capabilities",
      "At most 50",
    ],
  ])("refuses bad tags with the field path", async (tags, path, message) => {
    const { project, admin } = await setup();
    const failure = await trpcFailure(
      admin.identity.agents.setCapabilities({
        project: project.slug,
        agent: "builder",
        capabilities: tags,
      }),
    );
    expect(failure.code).toBe("BAD_REQUEST");
    expect(failure.details).toEqual([
      { path, message: expect.stringContaining(message) },
    ]);
  });

  it("creates an agent with its tags", async () => {
    const { project, admin } = await setup();
    const made = await admin.identity.agents.create({
      project: project.slug,
      name: "reviewer",
      capabilities: ["review"],
    });
    expect(made.agent.capabilities).toEqual(["review"]);
  });

  it("reads presence from authenticated calls, writing at most every 15 s", async () => {
    const { db, project, made, viewer } = await setup();
    const clock = pinClock();
    const presence = async () => {
      const [row] = await viewer.identity.agents.list({
        project: project.slug,
      });

      return row.presence;
    };
    const lastSeen = async () => {
      const [row] = await db
        .select({ at: agents.lastSeenAt })
        .from(agents)
        .where(eq(agents.id, made.agent.id));

      return row.at?.toISOString();
    };
    expect(await presence()).toBe("offline");

    await authenticateAgent(db, `Bearer ${made.secret}`);
    expect(await lastSeen()).toBe(clock.at().toISOString());
    expect(await presence()).toBe("idle");

    const first = clock.at().toISOString();
    clock.advance(10);
    await authenticateAgent(db, `Bearer ${made.secret}`);
    expect(await lastSeen()).toBe(first);
    clock.advance(6);
    await authenticateAgent(db, `Bearer ${made.secret}`);
    expect(await lastSeen()).toBe(clock.at().toISOString());

    // Holding a task makes it online; the task is listed with its lease.
    const goalId = newId();
    const at = now();
    await db.insert(goals).values({
      id: goalId,
      projectId: project.id,
      title: "Goal",
      createdAt: at,
      updatedAt: at,
    });
    const leaseExpiresAt = new Date(at.getTime() + 300_000);
    await db.insert(tasks).values({
      id: newId(),
      projectId: project.id,
      goalId,
      title: "Held task",
      status: "claimed",
      holderAgentId: made.agent.id,
      leaseExpiresAt,
      createdAt: at,
      updatedAt: at,
    });
    const [row] = await viewer.identity.agents.list({ project: project.slug });
    expect(row).toMatchObject({
      presence: "online",
      heldTasks: [{ title: "Held task", leaseExpiresAt }],
    });

    clock.advance(121);
    expect(await presence()).toBe("offline");
  });
});
