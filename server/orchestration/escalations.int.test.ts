import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { inTransaction, type DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import {
  auditLog,
  escalationRecipients,
  agents,
  escalations,
  taskLeases,
  tasks,
} from "@/db/schema";
import { POST as blockRoute } from "@/app/api/agent/v1/tasks/[id]/block/route";
import { createCaller } from "@/server/api/root";
import type { Actor } from "@/server/identity/actor";
import { setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { pinClock, trpcFailure } from "@/tests/failures";
import { addMember, makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import { raiseEscalation } from "./escalations";
import {
  cancelTask,
  claimNextTask,
  completeTask,
  createGoal,
  createTask,
  failTask,
  getTaskDetail,
  heartbeat,
  reservePaths,
  setMaxAttempts,
  sweepExpiredLeases,
} from "./index";

// Escalations as operators and agents meet them: an agent blocks its task,
// the right people are told, the sweeper reports tasks that keep lapsing,
// and each resolution moves the task and is audited.

const cli: Actor = { kind: "cli", label: "cli:test" };

async function post(taskId: string, token: string, body: unknown) {
  const response = await blockRoute(
    new Request(`http://test/api/agent/v1/tasks/${taskId}/block`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify(body),
    }),
    { params: Promise.resolve({ id: taskId }) },
  );

  return {
    status: response.status,
    body: (await response.json()) as Record<string, any>,
  };
}

describe.each(testKinds)("escalations on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
  });
  afterAll(async () => {
    useDatabase(null);
    await handle.close();
  });
  afterEach(() => setClock(null));

  /** A project with an operator member, a viewer member, two agents and a
   * task held by agent alpha. */
  async function setup() {
    const db = handle.db;
    const project = await makeProject(db);
    const operator = await makeUser(db, "viewer");
    const viewer = await makeUser(db, "viewer");
    for (const [person, role] of [
      [operator, "operator"],
      [viewer, "viewer"],
    ] as const) {
      await addMember(db, project.id, person.user.id, role);
    }
    const alpha = await makeAgent(db, project.id, "alpha");
    const beta = await makeAgent(db, project.id, "beta");
    const goal = await createGoal(db, cli, {
      project: project.slug,
      title: "Ship the API",
    });
    const other = await createTask(db, cli, {
      goalId: goal.id,
      title: "Schema work",
      scope: ["db/schema/**"],
      priority: -1,
    });
    const task = await createTask(db, cli, {
      goalId: goal.id,
      title: "Rate limits",
      scope: ["server/api/**"],
      priority: 5,
    });
    const claim = await claimNextTask(db, alpha.actor, {});
    expect(claim?.task.id).toBe(task.id);

    return {
      db,
      project,
      operator,
      viewer,
      alpha,
      beta,
      goal,
      task,
      other,
      operatorApi: createCaller({ db, actor: operator.actor }),
      viewerApi: createCaller({ db, actor: viewer.actor }),
    };
  }

  it("blocks the held task and tells the project's operators", async () => {
    const { db, project, operator, alpha, task, other, viewerApi } =
      await setup();
    const blocked = await post(task.id, alpha.secret, {
      reason: "Needs a column in the users table",
      conflictTaskId: other.id,
      path: "db/schema/identity.ts",
    });
    expect(blocked.status).toBe(200);
    expect(blocked.body).toMatchObject({
      task: { id: task.id, status: "blocked", holder: null },
      escalation: { kind: "scope_conflict", recipients: 1 },
    });

    // The lease is over: the agent can no longer heartbeat it.
    const [lease] = await db
      .select()
      .from(taskLeases)
      .where(eq(taskLeases.taskId, task.id));
    expect(lease).toMatchObject({ endReason: "blocked" });
    const detail = await getTaskDetail(db, cli, { taskId: task.id });
    expect(detail.transitions.at(-1)).toMatchObject({
      from: "claimed",
      to: "blocked",
      actorType: "agent",
      reason: "Needs a column in the users table",
    });

    const inbox = await viewerApi.orchestration.escalations.list({
      project: project.slug,
    });
    expect(inbox).toMatchObject([
      {
        kind: "scope_conflict",
        status: "open",
        task: { id: task.id, title: "Rate limits", status: "blocked" },
        conflictTask: { id: other.id, title: "Schema work" },
        path: "db/schema/identity.ts",
        raisedBy: { type: "agent", label: "agent:alpha" },
        recipients: [{ userId: operator.user.id, email: operator.user.email }],
      },
    ]);
    expect(
      await viewerApi.orchestration.escalations.count({
        project: project.slug,
      }),
    ).toEqual({ open: 1 });
  });

  it("names the kind blocked when no task or path is in the way", async () => {
    const { alpha, task } = await setup();
    const blocked = await post(task.id, alpha.secret, {
      reason: "The staging database is down",
    });
    expect(blocked.body.escalation).toMatchObject({ kind: "blocked" });
  });

  it("refuses a block by anyone but the holder, or without a reason", async () => {
    const { alpha, beta, task } = await setup();
    expect(await post(task.id, alpha.secret, { reason: " " })).toMatchObject({
      status: 400,
      body: {
        error: {
          code: "invalid_input",
          details: [{ path: "reason", message: "Say what blocks the task" }],
        },
      },
    });
    expect(
      await post(task.id, beta.secret, { reason: "mine now" }),
    ).toMatchObject({
      status: 409,
      body: {
        error: {
          message: "Task 'Rate limits' is held by agent alpha, not by you",
        },
      },
    });
    expect(
      await post(task.id, alpha.secret, {
        reason: "x",
        conflictTaskId: "00000000-0000-4000-8000-000000000000",
      }),
    ).toMatchObject({
      status: 400,
      body: { error: { details: [{ path: "conflictTaskId" }] } },
    });
  });

  it("falls back to the instance admins, then to every user", async () => {
    // A database of its own, so the users in it are exactly these.
    const own = await openTestDatabase(kind);
    try {
      const db = own.db;
      const project = await makeProject(db);
      const viewer = await makeUser(db, "viewer");
      const operator = await makeUser(db, "operator");
      await addMember(db, project.id, viewer.user.id, "viewer");
      const raise = () =>
        inTransaction(db, (tx) =>
          raiseEscalation(tx, {
            projectId: project.id,
            kind: "blocked",
            taskId: null,
            reason: "test",
            raisedBy: { type: "system", id: null, label: "system:test" },
          }),
        );

      // No admin or operator member and no instance admin: everyone.
      const everyone = await raise();
      expect(everyone.recipients.sort()).toEqual(
        [viewer.user.id, operator.user.id].sort(),
      );

      // An instance admin appears: only the admins.
      const admin = await makeUser(db, "admin");
      expect((await raise()).recipients).toEqual([admin.user.id]);
      const stored = await db
        .select()
        .from(escalationRecipients)
        .where(eq(escalationRecipients.userId, admin.user.id));
      expect(stored).toHaveLength(1);
    } finally {
      await own.close();
    }
  }, 120_000);

  it("raises one escalation per task and kind from the sweeper", async () => {
    const { db, project, beta, goal } = await setup();
    const clock = pinClock();
    await setMaxAttempts(db, project.id, 4);
    const task = await createTask(db, cli, {
      goalId: goal.id,
      title: "Flaky",
      priority: 100,
    });
    const open = (kindOf: string) =>
      db
        .select()
        .from(escalations)
        .where(
          and(eq(escalations.taskId, task.id), eq(escalations.kind, kindOf)),
        );
    const lapse = async () => {
      const claim = await claimNextTask(db, beta.actor, { ttlSeconds: 10 });
      expect(claim?.task.id).toBe(task.id);
      clock.advance(11);
      await sweepExpiredLeases(db);
    };

    await lapse();
    expect(await open("lease_expired")).toHaveLength(0);
    await lapse();
    const [lapsed] = await open("lease_expired");
    expect(lapsed).toMatchObject({
      status: "open",
      raisedByType: "system",
      raisedByLabel: "system:lease-sweeper",
      reason:
        "The lease on task 'Flaky' has expired 2 times; its agents may be " +
        "stuck or the lease too short",
    });
    await lapse();
    expect(await open("lease_expired")).toHaveLength(1);
    await lapse();
    const detail = await getTaskDetail(db, cli, { taskId: task.id });
    expect(detail.task.status).toBe("failed");
    expect(await open("max_attempts")).toMatchObject([
      {
        reason:
          "Task 'Flaky' failed: its lease expired with 4 of 4 attempts used",
      },
    ]);
    expect(await open("lease_expired")).toHaveLength(1);
  });

  async function blockedEscalation() {
    const context = await setup();
    const blocked = await post(context.task.id, context.alpha.secret, {
      reason: "Schema overlap",
      conflictTaskId: context.other.id,
    });
    expect(blocked.status).toBe(200);

    return { ...context, escalationId: blocked.body.escalation.id as string };
  }

  async function auditOf(escalationId: string) {
    const rows = await handle.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.targetId, escalationId));

    return rows.map((row) => ({
      action: row.action,
      actor: row.actorLabel,
      details: row.details,
    }));
  }

  it("unblocks: the task is ready again, audited with who and when", async () => {
    const { db, operator, operatorApi, task, escalationId } =
      await blockedEscalation();
    const resolved = await operatorApi.orchestration.escalations.resolve({
      escalationId,
      action: "unblock",
      note: "Column added by hand",
    });
    expect(resolved).toMatchObject({
      status: "resolved",
      resolution: "unblocked",
      resolutionNote: "Column added by hand",
      resolvedBy: operator.user.email,
      task: { status: "ready" },
    });
    expect(resolved.resolvedAt).toBeInstanceOf(Date);
    expect(await auditOf(escalationId)).toEqual([
      {
        action: "escalation.resolve",
        actor: operator.user.email,
        details: expect.objectContaining({
          kind: "scope_conflict",
          resolution: "unblocked",
          taskId: task.id,
          note: "Column added by hand",
        }),
      },
    ]);
    const detail = await getTaskDetail(db, cli, { taskId: task.id });
    expect(detail.transitions.at(-1)).toMatchObject({
      from: "blocked",
      to: "ready",
      actorType: "operator",
      reason: "escalation unblocked: Column added by hand",
    });

    // Resolved once only.
    expect(
      await trpcFailure(
        operatorApi.orchestration.escalations.resolve({
          escalationId,
          action: "dismiss",
        }),
      ),
    ).toMatchObject({
      code: "CONFLICT",
      message: `This escalation was already resolved (unblocked) by ${operator.user.email}`,
    });
  });

  it("reassigns to a named agent, who holds the task and is told", async () => {
    const { db, operatorApi, beta, task, escalationId } =
      await blockedEscalation();
    const resolved = await operatorApi.orchestration.escalations.resolve({
      escalationId,
      action: "reassign",
      agent: "beta",
    });
    expect(resolved).toMatchObject({
      resolution: "reassigned",
      task: { status: "claimed" },
    });
    const detail = await getTaskDetail(db, cli, { taskId: task.id });
    expect(detail.task).toMatchObject({
      holder: { name: "beta" },
      attempts: 2,
    });
    expect(detail.transitions.slice(-2).map((t) => [t.from, t.to])).toEqual([
      ["blocked", "ready"],
      ["ready", "claimed"],
    ]);
    // beta holds a live lease: its heartbeat starts the work.
    const beat = await heartbeat(db, beta.actor, { taskId: task.id });
    expect(beat.task.status).toBe("in_progress");
    expect(await auditOf(escalationId)).toMatchObject([
      { details: { resolution: "reassigned", agent: "beta" } },
    ]);
  });

  it("reassigns back to ready when no agent is named", async () => {
    const { operatorApi, escalationId } = await blockedEscalation();
    const resolved = await operatorApi.orchestration.escalations.resolve({
      escalationId,
      action: "reassign",
    });
    expect(resolved.task).toMatchObject({ status: "ready" });
  });

  it("merges the blocked task's scope into the conflicting task", async () => {
    const { db, operatorApi, task, other, escalationId } =
      await blockedEscalation();
    const resolved = await operatorApi.orchestration.escalations.resolve({
      escalationId,
      action: "merge_scopes",
      note: "One agent does both",
    });
    expect(resolved).toMatchObject({
      resolution: "scopes_merged",
      task: { status: "cancelled" },
      conflictTask: { status: "ready" },
    });
    const merged = await getTaskDetail(db, cli, { taskId: other.id });
    expect(merged.task.scope).toEqual(["db/schema/**", "server/api/**"]);
    const cancelled = await getTaskDetail(db, cli, { taskId: task.id });
    expect(cancelled.transitions.at(-1)?.reason).toBe(
      "escalation scopes_merged: One agent does both: scope merged into " +
        "'Schema work'",
    );
  });

  it("cancels the task, or dismisses leaving it as it is", async () => {
    const first = await blockedEscalation();
    const cancelled = await first.operatorApi.orchestration.escalations.resolve(
      { escalationId: first.escalationId, action: "cancel" },
    );
    expect(cancelled).toMatchObject({
      resolution: "cancelled",
      task: { status: "cancelled" },
    });

    const second = await blockedEscalation();
    const dismissed =
      await second.operatorApi.orchestration.escalations.resolve({
        escalationId: second.escalationId,
        action: "dismiss",
      });
    expect(dismissed).toMatchObject({
      resolution: "dismissed",
      task: { status: "blocked" },
    });
    expect(
      await second.viewerApi.orchestration.escalations.list({
        project: second.project.slug,
        status: "resolved",
      }),
    ).toMatchObject([{ id: second.escalationId, resolution: "dismissed" }]);
  });

  it("refuses a resolution the task's state does not allow", async () => {
    const { db, project, operatorApi, other } = await setup();
    const { id } = await inTransaction(db, (tx) =>
      raiseEscalation(tx, {
        projectId: project.id,
        kind: "lease_expired",
        taskId: other.id,
        reason: "lapsed twice",
        raisedBy: { type: "system", id: null, label: "system:test" },
      }),
    );
    expect(
      await trpcFailure(
        operatorApi.orchestration.escalations.resolve({
          escalationId: id,
          action: "unblock",
        }),
      ),
    ).toMatchObject({
      code: "CONFLICT",
      message:
        "Task 'Schema work' is ready, not blocked; reassign, cancel or " +
        "dismiss instead",
    });
    expect(
      await trpcFailure(
        operatorApi.orchestration.escalations.resolve({
          escalationId: id,
          action: "merge_scopes",
        }),
      ),
    ).toMatchObject({
      code: "CONFLICT",
      message: "This escalation names no conflicting task to merge scopes into",
    });
    expect(
      await trpcFailure(
        operatorApi.orchestration.escalations.resolve({
          escalationId: id,
          action: "dismiss",
          agent: "beta",
        }),
      ),
    ).toMatchObject({ code: "BAD_REQUEST", details: [{ path: "agent" }] });
    // Still open after the refusals.
    expect(
      await operatorApi.orchestration.escalations.count({
        project: project.slug,
      }),
    ).toEqual({ open: 1 });
  });

  it("lets viewers read the inbox but not resolve", async () => {
    const { viewerApi, escalationId } = await blockedEscalation();
    expect(
      await trpcFailure(
        viewerApi.orchestration.escalations.resolve({
          escalationId,
          action: "dismiss",
        }),
      ),
    ).toMatchObject({ code: "FORBIDDEN" });
  });

  it("refuses to reassign into another agent's hold, naming it", async () => {
    const { db, project, operatorApi, task, goal, escalationId } =
      await blockedEscalation();
    const gamma = await makeAgent(db, project.id, "gamma");
    // gamma holds a task whose scope lies inside the blocked task's.
    const docs = await createTask(db, cli, {
      goalId: goal.id,
      title: "API docs",
      scope: ["server/api/docs/**"],
      priority: 9,
    });
    expect((await claimNextTask(db, gamma.actor, {}))?.task.id).toBe(docs.id);
    const refused = await trpcFailure(
      operatorApi.orchestration.escalations.resolve({
        escalationId,
        action: "reassign",
        agent: "beta",
      }),
    );
    expect(refused).toMatchObject({ code: "CONFLICT" });
    expect(refused.message).toContain(
      "Task 'Rate limits' cannot go to agent beta: scope server/api " +
        "overlaps task 'API docs' held by agent gamma (server/api/docs/**,",
    );
    // Nothing changed: the task is still blocked, the escalation open.
    const detail = await getTaskDetail(db, cli, { taskId: task.id });
    expect(detail.task).toMatchObject({ status: "blocked", holder: null });
    expect(
      await operatorApi.orchestration.escalations.count({
        project: project.slug,
      }),
    ).toEqual({ open: 1 });

    // A reservation of another agent is a hold too; gamma is the target
    // now, so its own task is no obstacle, but delta's reservation is.
    const delta = await makeAgent(db, project.id, "delta");
    const reserved = await reservePaths(db, delta.actor, {
      globs: ["server/api/limits.ts"],
    });
    const second = await trpcFailure(
      operatorApi.orchestration.escalations.resolve({
        escalationId,
        action: "reassign",
        agent: "gamma",
      }),
    );
    expect(second.message).toContain(
      "Task 'Rate limits' cannot go to agent gamma: scope server/api " +
        `overlaps exclusive reservation ${reserved.reservation!.id} held ` +
        "by agent delta (server/api/limits.ts,",
    );
    // Once gamma is done, delta's own reservation does not stand in
    // delta's way.
    await completeTask(db, gamma.actor, { taskId: docs.id });
    const resolved = await operatorApi.orchestration.escalations.resolve({
      escalationId,
      action: "reassign",
      agent: "delta",
    });
    expect(resolved.task).toMatchObject({ status: "claimed" });
  });

  it("refuses to reassign to an agent without the capabilities the task needs", async () => {
    const { db, operatorApi, task, beta, escalationId } =
      await blockedEscalation();
    await db
      .update(tasks)
      .set({ capabilities: ["postgres", "rust"] })
      .where(eq(tasks.id, task.id));
    await db
      .update(agents)
      .set({ capabilities: ["rust"] })
      .where(eq(agents.id, beta.agent.id));
    const refused = await trpcFailure(
      operatorApi.orchestration.escalations.resolve({
        escalationId,
        action: "reassign",
        agent: "beta",
      }),
    );
    expect(refused).toMatchObject({
      code: "CONFLICT",
      message:
        "Agent beta lacks the capabilities postgres that task " +
        "'Rate limits' needs",
    });
    await db
      .update(agents)
      .set({ capabilities: ["rust", "postgres"] })
      .where(eq(agents.id, beta.agent.id));
    const resolved = await operatorApi.orchestration.escalations.resolve({
      escalationId,
      action: "reassign",
      agent: "beta",
    });
    expect(resolved.task).toMatchObject({ status: "claimed" });
  });

  it("refuses to grow a held task's scope into another agent's hold", async () => {
    const { db, project, operatorApi, task, other, beta, escalationId } =
      await blockedEscalation();
    const gamma = await makeAgent(db, project.id, "gamma");
    expect((await claimNextTask(db, gamma.actor, {}))?.task.id).toBe(other.id);
    const reserved = await reservePaths(db, beta.actor, {
      globs: ["server/api/routes.ts"],
    });
    const refused = await trpcFailure(
      operatorApi.orchestration.escalations.resolve({
        escalationId,
        action: "merge_scopes",
      }),
    );
    expect(refused).toMatchObject({ code: "CONFLICT" });
    expect(refused.message).toContain(
      "The scope of 'Schema work' cannot grow while it is held: scope " +
        `server/api overlaps exclusive reservation ${reserved.reservation!.id} ` +
        "held by agent beta (server/api/routes.ts,",
    );
    const unchanged = await getTaskDetail(db, cli, { taskId: other.id });
    expect(unchanged.task.scope).toEqual(["db/schema/**"]);
    expect(
      (await getTaskDetail(db, cli, { taskId: task.id })).task.status,
    ).toBe("blocked");
  });

  it("grows the scope of a held task when nobody else holds the files", async () => {
    const { db, project, operatorApi, other, escalationId } =
      await blockedEscalation();
    const gamma = await makeAgent(db, project.id, "gamma");
    expect((await claimNextTask(db, gamma.actor, {}))?.task.id).toBe(other.id);
    // gamma's own reservation inside the new scope is no obstacle.
    await reservePaths(db, gamma.actor, { globs: ["server/api/x.ts"] });
    await operatorApi.orchestration.escalations.resolve({
      escalationId,
      action: "merge_scopes",
    });
    const [row] = await db
      .select({ scope: tasks.scope, roots: tasks.scopeRoots })
      .from(tasks)
      .where(eq(tasks.id, other.id));
    expect(row).toEqual({
      scope: ["db/schema/**", "server/api/**"],
      roots: ["db/schema", "server/api"],
    });
    // Another agent's claim now keeps off the merged files.
    const late = await createTask(db, cli, {
      goalId: (await getTaskDetail(db, cli, { taskId: other.id })).task.goalId,
      title: "Late API work",
      scope: ["server/api/late.ts"],
    });
    const delta = await makeAgent(db, project.id, "delta");
    expect(await claimNextTask(db, delta.actor, {})).toBeNull();
    expect(late.status).toBe("ready");
  });

  it("dismisses a task's open escalations when it is done or cancelled elsewhere", async () => {
    const { db, project, operatorApi, alpha, task, other } = await setup();
    // An escalation about the task alpha still holds; alpha finishes it.
    const { id: lapsed } = await inTransaction(db, (tx) =>
      raiseEscalation(tx, {
        projectId: project.id,
        kind: "lease_expired",
        taskId: task.id,
        reason: "lapsed twice",
        raisedBy: { type: "system", id: null, label: "system:test" },
      }),
    );
    await completeTask(db, alpha.actor, { taskId: task.id });
    // One about a ready task that an operator cancels from the task page.
    const { id: stuck } = await inTransaction(db, (tx) =>
      raiseEscalation(tx, {
        projectId: project.id,
        kind: "blocked",
        taskId: other.id,
        reason: "stuck",
        raisedBy: { type: "system", id: null, label: "system:test" },
      }),
    );
    await cancelTask(db, cli, { taskId: other.id });
    expect(
      await operatorApi.orchestration.escalations.count({
        project: project.slug,
      }),
    ).toEqual({ open: 0 });
    const resolved = await operatorApi.orchestration.escalations.list({
      project: project.slug,
      status: "resolved",
    });
    expect(
      resolved.map((e) => [e.id, e.resolution, e.resolutionNote]).sort(),
    ).toEqual(
      [
        [lapsed, "dismissed", "task was done"],
        [stuck, "dismissed", "task was cancelled"],
      ].sort(),
    );
    expect(resolved.find((e) => e.id === lapsed)?.resolvedBy).toBe(
      "agent:alpha",
    );
  });

  it("keeps a failed task's escalation open for an operator", async () => {
    const { db, project, operatorApi, alpha, task } = await setup();
    await inTransaction(db, (tx) =>
      raiseEscalation(tx, {
        projectId: project.id,
        kind: "lease_expired",
        taskId: task.id,
        reason: "lapsed twice",
        raisedBy: { type: "system", id: null, label: "system:test" },
      }),
    );
    await failTask(db, alpha.actor, { taskId: task.id, reason: "gave up" });
    expect(
      await operatorApi.orchestration.escalations.count({
        project: project.slug,
      }),
    ).toEqual({ open: 1 });
  });
});
