import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GET as getApprovalRoute } from "@/app/api/agent/v1/approvals/[id]/route";
import { POST as postBudgetRequest } from "@/app/api/agent/v1/budget-requests/route";
import { POST as postHook } from "@/app/api/agent/v1/hooks/claude-code/route";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { findTool } from "@/server/api/mcp/tools";
import {
  approvals,
  auditLog,
  notificationRecipients,
  notifications,
} from "@/db/schema";
import { DomainError } from "@/server/errors";
import type { Actor } from "@/server/identity/actor";
import {
  agentNotices,
  createGoal,
  getGoal,
  getPlan,
  reviewPlan,
  submitPlan,
} from "@/server/orchestration";
import { updateOrchestrationSettings } from "@/server/orchestration/project-settings";
import { setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import { decideApproval, listApprovals, type ApprovalView } from "./approvals";
import { setAskWaitSeconds } from "./ask";
import { addRule } from "./rules";

// The approvals queue as agents and people meet it: a tool call an "ask"
// rule holds waits in the hook for a person's decision; budget increase
// requests raise the goal's budget once approved; plans above the project's
// thresholds need an admin; decisions reach the agent once.

let sequence = 0;

function bash(command: string, sessionId = "sess-ask") {
  sequence += 1;

  return {
    session_id: sessionId,
    hook_event_name: "PreToolUse",
    tool_name: "Bash",
    tool_input: { command, description: "run it" },
    tool_use_id: `toolu-${sequence}`,
    cwd: "/repo",
  };
}

interface HookAnswer {
  approvalId: string | null;
  decision?: string;
  reason?: string;
}

/** Posts a PreToolUse body as Claude Code does; the answer and the
 * approval id header. */
async function hook(secret: string, body: unknown): Promise<HookAnswer> {
  const response = await postHook(
    new Request("http://localhost/api/agent/v1/hooks/claude-code", {
      method: "POST",
      headers: {
        authorization: `Bearer ${secret}`,
        "content-type": "application/json",
      },
      body: JSON.stringify(body),
    }),
    { params: Promise.resolve({}) },
  );
  expect(response.status).toBe(200);
  const json = (await response.json()) as {
    hookSpecificOutput?: {
      permissionDecision: string;
      permissionDecisionReason?: string;
    };
  };

  return {
    approvalId: response.headers.get("x-flotilla-approval-id"),
    decision: json.hookSpecificOutput?.permissionDecision,
    reason: json.hookSpecificOutput?.permissionDecisionReason,
  };
}

async function agentGet(secret: string, url: string, id: string) {
  const response = await getApprovalRoute(
    new Request(url, { headers: { authorization: `Bearer ${secret}` } }),
    { params: Promise.resolve({ id }) },
  );

  return {
    status: response.status,
    body: (await response.json()) as { approval: ApprovalView },
  };
}

async function budgetRequest(secret: string, body: unknown) {
  const response = await postBudgetRequest(
    new Request("http://localhost/api/agent/v1/budget-requests", {
      method: "POST",
      headers: {
        authorization: `Bearer ${secret}`,
        "content-type": "application/json",
      },
      body: JSON.stringify(body),
    }),
    { params: Promise.resolve({}) },
  );

  return {
    status: response.status,
    body: (await response.json()) as {
      approval?: ApprovalView;
      error?: { message: string; details?: { path: string }[] };
    },
  };
}

async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) {
      return { status: error.status, message: error.message };
    }
    throw error;
  }
  throw new Error("expected a refusal");
}

/** Waits (polling, up to 10 s) until the project has a pending approval
 * of the kind, as a person watching the queue would see it appear. */
async function pendingApproval(
  db: DatabaseHandle["db"],
  actor: Actor,
  project: string,
  kind: ApprovalView["kind"],
): Promise<ApprovalView> {
  const until = Date.now() + 10_000;
  for (;;) {
    const list = await listApprovals(db, actor, {
      project,
      status: "pending",
      kind,
    });
    if (list[0]) return list[0];
    if (Date.now() > until) throw new Error(`no pending ${kind} approval`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(testKinds)("approvals on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
  });
  afterAll(async () => {
    useDatabase(null);
    await handle.close();
  });
  afterEach(() => {
    setAskWaitSeconds(null);
    setClock(null);
  });

  async function setup() {
    const db = handle.db;
    const project = await makeProject(db);
    const agent = await makeAgent(db, project.id, "builder");
    const admin = await makeUser(db, "admin");
    const operator = await makeUser(db, "operator");
    const viewer = await makeUser(db, "viewer");
    await addRule(db, admin.actor, {
      project: project.slug,
      scope: "project",
      kind: "command",
      tool: "Bash",
      pattern: "DROP",
      decision: "ask",
      reason: "schema changes are reviewed",
    });

    return { db, project, agent, admin, operator, viewer };
  }

  it("a tool call approved while the hook waits is allowed, and its retry too", async () => {
    const { db, project, agent, operator } = await setup();
    setAskWaitSeconds(20);
    const body = bash("psql -c 'DROP TABLE old_sessions'");
    const answer = hook(agent.secret, body);

    const pending = await pendingApproval(
      db,
      operator.actor,
      project.slug,
      "tool",
    );
    expect(pending).toMatchObject({
      status: "pending",
      requiredRole: "operator",
      title: "Bash: psql -c 'DROP TABLE old_sessions'",
      agent: { name: "builder" },
      session: { id: "sess-ask" },
      canDecide: true,
      payload: {
        toolName: "Bash",
        command: "psql -c 'DROP TABLE old_sessions'",
      },
    });
    expect(pending.reason).toContain("schema changes are reviewed");
    // The default ask timeout is ten minutes.
    const timeout =
      (pending.expiresAt?.getTime() ?? 0) - pending.requestedAt.getTime();
    expect(timeout).toBeGreaterThan(599_000);
    expect(timeout).toBeLessThanOrEqual(600_000);
    // The person was told, once.
    const raised = await db
      .select()
      .from(notifications)
      .where(eq(notifications.dedupeKey, `approval:${pending.id}`));
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({
      kind: "approval_waiting",
      link: `/projects/${project.slug}/approvals`,
    });

    await decideApproval(db, operator.actor, {
      approvalId: pending.id,
      decision: "approve",
      comment: "one-off cleanup",
    });
    // Deciding it settles the notice: nobody finds it waiting unread.
    const told = await db
      .select()
      .from(notificationRecipients)
      .where(eq(notificationRecipients.notificationId, raised[0].id));
    expect(told.length).toBeGreaterThan(0);
    expect(told.every((r) => r.readAt !== null)).toBe(true);
    const allowed = await answer;
    expect(allowed.decision).toBe("allow");
    expect(allowed.approvalId).toBe(pending.id);
    expect(allowed.reason).toBe(
      `Approved by ${operator.user.email} (approval ${pending.id}): ` +
        "one-off cleanup",
    );

    // Claude Code retries the same call: allowed at once, nothing new asked.
    const retry = await hook(agent.secret, { ...body, tool_use_id: "again" });
    expect(retry.decision).toBe("allow");
    expect(retry.approvalId).toBe(pending.id);
    const rows = await db
      .select()
      .from(approvals)
      .where(eq(approvals.projectId, project.id));
    expect(rows).toHaveLength(1);
    expect(rows[0].deliveredAt).not.toBeNull();
    // The hook told the agent, so no notice repeats it.
    expect((await agentNotices(db, agent.actor)).approvals).toEqual([]);
    const [audit] = await db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.targetId, pending.id),
          eq(auditLog.action, "approval.approve"),
        ),
      );
    expect(audit).toMatchObject({ actorLabel: operator.user.email });
  }, 30_000);

  it("a denied tool call is denied with the comment; only operators decide", async () => {
    const { db, project, agent, operator, viewer, admin } = await setup();
    setAskWaitSeconds(20);
    const answer = hook(agent.secret, bash("DROP DATABASE prod"));
    const pending = await pendingApproval(
      db,
      viewer.actor,
      project.slug,
      "tool",
    );
    expect(pending.canDecide).toBe(false);

    expect(
      await refusal(
        decideApproval(db, viewer.actor, {
          approvalId: pending.id,
          decision: "approve",
        }),
      ),
    ).toMatchObject({ status: 403 });
    expect(
      await refusal(
        decideApproval(db, agent.actor, {
          approvalId: pending.id,
          decision: "approve",
        }),
      ),
    ).toMatchObject({
      status: 403,
      message: expect.stringContaining("person"),
    });

    await decideApproval(db, operator.actor, {
      approvalId: pending.id,
      decision: "deny",
      comment: "never on prod",
    });
    const denied = await answer;
    expect(denied.decision).toBe("deny");
    expect(denied.reason).toBe(
      `Denied by ${operator.user.email} (approval ${pending.id}): never on prod`,
    );
    // One decision: a second click is refused.
    expect(
      await refusal(
        decideApproval(db, admin.actor, {
          approvalId: pending.id,
          decision: "approve",
        }),
      ),
    ).toMatchObject({ status: 409 });
  }, 30_000);

  it("a tool call nobody decides in time is denied and the approval expires", async () => {
    const { db, project, agent, admin, operator } = await setup();
    await updateOrchestrationSettings(db, admin.actor, {
      project: project.slug,
      askTimeoutSeconds: 30,
    });
    setAskWaitSeconds(20);
    let offset = 0;
    setClock(() => new Date(Date.now() + offset));
    const answer = hook(agent.secret, bash("DROP INDEX slow_idx"));
    const pending = await pendingApproval(
      db,
      operator.actor,
      project.slug,
      "tool",
    );
    // Half a minute passes with nobody deciding.
    offset = 31_000;
    const denied = await answer;
    expect(denied.decision).toBe("deny");
    expect(denied.reason).toContain(
      `No one approved this call in time (approval ${pending.id})`,
    );
    const [row] = await db
      .select()
      .from(approvals)
      .where(eq(approvals.id, pending.id));
    expect(row.status).toBe("expired");
    const [audit] = await db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.targetId, pending.id),
          eq(auditLog.action, "approval.expire"),
        ),
      );
    expect(audit).toBeDefined();
    expect(
      await refusal(
        decideApproval(db, operator.actor, {
          approvalId: pending.id,
          decision: "approve",
        }),
      ),
    ).toMatchObject({ status: 409 });
  }, 30_000);

  it("a call still waiting when the hook gives up is retried once approved", async () => {
    const { db, project, agent, operator } = await setup();
    setAskWaitSeconds(0);
    const body = bash("DROP VIEW report");
    const first = await hook(agent.secret, body);
    expect(first.decision).toBe("deny");
    expect(first.approvalId).not.toBeNull();
    const id = first.approvalId ?? "";
    expect(first.reason).toContain(
      `waits for a person's approval (approval ${id})`,
    );
    expect(first.reason).toContain("Retry the same call later");
    // Asking again while pending is the same approval.
    const again = await hook(agent.secret, { ...body, tool_use_id: "x" });
    expect(again.approvalId).toBe(id);

    // A non-hook agent long-polls the approval.
    const polled = agentGet(
      agent.secret,
      `http://localhost/api/agent/v1/approvals/${id}?wait=20`,
      id,
    );
    await decideApproval(db, operator.actor, {
      approvalId: id,
      decision: "approve",
    });
    const read = await polled;
    expect(read.status).toBe(200);
    expect(read.body.approval).toMatchObject({ id, status: "approved" });
    expect(read.body.approval.decidedBy).toBe(operator.user.email);
    // Read by the agent: delivered, so not repeated in its notices.
    expect((await agentNotices(db, agent.actor)).approvals).toEqual([]);

    const retry = await hook(agent.secret, { ...body, tool_use_id: "y" });
    expect(retry.decision).toBe("allow");
    expect(retry.reason).toContain(`Approved by ${operator.user.email}`);

    // Another agent cannot read it.
    const other = await makeAgent(db, project.id, "other");
    const hidden = await agentGet(
      other.secret,
      `http://localhost/api/agent/v1/approvals/${id}`,
      id,
    );
    expect(hidden.status).toBe(404);
    const badWait = await agentGet(
      agent.secret,
      `http://localhost/api/agent/v1/approvals/${id}?wait=600`,
      id,
    );
    expect(badWait.status).toBe(400);
  }, 30_000);

  it("an approved budget request raises the goal's budget, told to the agent once", async () => {
    const { db, project, agent, operator, viewer } = await setup();
    const goal = await createGoal(db, operator.actor, {
      project: project.slug,
      title: "Migrate billing",
      budgetUsd: 10,
    });
    const body = { goalId: goal.id, amountUsd: 5.5, reason: "tests are slow" };
    const created = await budgetRequest(agent.secret, body);
    expect(created.status).toBe(201);
    const approval = created.body.approval;
    expect(approval).toMatchObject({
      kind: "budget_increase",
      status: "pending",
      title: "Raise the budget of goal 'Migrate billing' by $5.50",
      reason: "tests are slow",
    });
    // The same request while pending is the same approval.
    const repeated = await budgetRequest(agent.secret, body);
    expect(repeated.status).toBe(200);
    expect(repeated.body.approval?.id).toBe(approval?.id);
    // Over MCP, the same request is the same pending approval.
    const viaMcp = await findTool("budget_request")?.call(
      db,
      agent.actor,
      body,
    );
    expect(viaMcp).toBe(
      `Already pending: approval ${approval?.id} (Raise the budget of goal ` +
        "'Migrate billing' by $5.50), pending",
    );
    const cents = await budgetRequest(agent.secret, {
      ...body,
      amountUsd: 0.005,
    });
    expect(cents.status).toBe(400);
    expect(cents.body.error?.details?.[0]?.path).toBe("amountUsd");
    const zero = await budgetRequest(agent.secret, { ...body, amountUsd: 0 });
    expect(zero.status).toBe(400);
    const unlimited = await createGoal(db, operator.actor, {
      project: project.slug,
      title: "No budget",
    });
    const nothing = await budgetRequest(agent.secret, {
      ...body,
      goalId: unlimited.id,
    });
    expect(nothing.status).toBe(400);

    expect(
      await refusal(
        decideApproval(db, viewer.actor, {
          approvalId: approval?.id ?? "",
          decision: "approve",
        }),
      ),
    ).toMatchObject({ status: 403 });
    await decideApproval(db, operator.actor, {
      approvalId: approval?.id ?? "",
      decision: "approve",
      comment: "go ahead",
    });
    expect(
      (await getGoal(db, operator.actor, { goalId: goal.id })).budgetUsd,
    ).toBe(15.5);
    const [audit] = await db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.targetId, goal.id),
          eq(auditLog.action, "goal.budget_increase"),
        ),
      );
    expect(audit.details).toMatchObject({ before: 10, after: 15.5 });

    const first = await agentNotices(db, agent.actor);
    expect(first.approvals).toMatchObject([
      {
        id: approval?.id,
        kind: "budget_increase",
        status: "approved",
        comment: "go ahead",
        decidedBy: operator.user.email,
      },
    ]);
    expect((await agentNotices(db, agent.actor)).approvals).toEqual([]);
  });

  it("plans above the cost threshold or on protected paths need an admin", async () => {
    const { db, project, agent, admin, operator } = await setup();
    await updateOrchestrationSettings(db, admin.actor, {
      project: project.slug,
      adminApprovalAboveUsd: 2,
      protectedPaths: ["migrations/**"],
    });
    // A goal that would approve plans at once still sends these to an admin.
    const goal = await createGoal(db, operator.actor, {
      project: project.slug,
      title: "Reports",
      requiresPlanApproval: false,
    });
    const task = (key: string, estimateUsd: number, scope: string) => ({
      key,
      title: `Task ${key}`,
      scope: [scope],
      estimateUsd,
    });
    const costly = await submitPlan(db, agent.actor, {
      goalId: goal.id,
      tasks: [task("a", 1.25, "src/a/**"), task("b", 1.25, "src/b/**")],
    });
    expect(costly.status).toBe("submitted");
    const item = await pendingApproval(
      db,
      operator.actor,
      project.slug,
      "plan",
    );
    expect(item).toMatchObject({
      requiredRole: "admin",
      canDecide: false,
      agent: { name: "builder" },
      plan: { id: costly.id, estimateTotalUsd: 2.5 },
    });
    expect(item.plan?.tasks.map((t) => t.estimateUsd)).toEqual([1.25, 1.25]);
    const operatorReview = await refusal(
      reviewPlan(db, operator.actor, {
        planId: costly.id,
        decision: "approve",
      }),
    );
    expect(operatorReview).toEqual({
      status: 403,
      message:
        "This plan needs an admin's approval: its tasks are estimated at " +
        "$2.50, above the $2.00 an operator may approve",
    });
    expect(
      await refusal(
        decideApproval(db, operator.actor, {
          approvalId: item.id,
          decision: "approve",
        }),
      ),
    ).toMatchObject({ status: 403 });

    // The admin approves in the queue; the plan page agrees.
    await decideApproval(db, admin.actor, {
      approvalId: item.id,
      decision: "approve",
    });
    const approved = await getPlan(db, admin.actor, { planId: costly.id });
    expect(approved.status).toBe("approved");
    expect(approved.taskIds).toHaveLength(2);

    // A cheap plan touching a protected path: an admin too.
    const protectedPlan = await submitPlan(db, agent.actor, {
      goalId: goal.id,
      tasks: [task("m", 0.5, "migrations/0007_reports.sql")],
    });
    const [protectedItem] = await listApprovals(db, admin.actor, {
      project: project.slug,
      status: "pending",
    });
    expect(protectedItem).toMatchObject({
      requiredRole: "admin",
      canDecide: true,
      plan: { id: protectedPlan.id },
    });
    expect(protectedItem.reason).toContain(
      "task m touches the protected path migrations/**",
    );
    // Decided on the plan page: the queue agrees.
    await reviewPlan(db, admin.actor, {
      planId: protectedPlan.id,
      decision: "request_changes",
      comment: "split the migration",
    });
    const [settled] = await listApprovals(db, admin.actor, {
      project: project.slug,
      status: "decided",
      kind: "plan",
    });
    expect(settled).toMatchObject({
      id: protectedItem.id,
      status: "denied",
      comment: "split the migration",
      decidedBy: admin.user.email,
    });

    // Under the threshold and off protected paths: approved at once.
    const small = await submitPlan(db, agent.actor, {
      goalId: goal.id,
      tasks: [task("s", 0.5, "src/s/**")],
    });
    expect(small.status).toBe("approved");
  });

  it("an operator decides an ordinary plan from the queue; a newer version supersedes it", async () => {
    const { db, project, agent, operator } = await setup();
    const goal = await createGoal(db, operator.actor, {
      project: project.slug,
      title: "Docs",
    });
    const plan = {
      goalId: goal.id,
      tasks: [{ key: "d", title: "Write docs", scope: ["docs/**"] }],
    };
    const v1 = await submitPlan(db, agent.actor, plan);
    const v2 = await submitPlan(db, agent.actor, plan);
    const list = await listApprovals(db, operator.actor, {
      project: project.slug,
      kind: "plan",
    });
    expect(list.map((a) => [a.plan?.id, a.status])).toEqual([
      [v2.id, "pending"],
      [v1.id, "cancelled"],
    ]);
    // Denying a plan needs a reason, as on the plan page.
    expect(
      await refusal(
        decideApproval(db, operator.actor, {
          approvalId: list[0].id,
          decision: "deny",
        }),
      ),
    ).toMatchObject({ status: 400 });
    const decided = await decideApproval(db, operator.actor, {
      approvalId: list[0].id,
      decision: "approve",
    });
    expect(decided.status).toBe("approved");
    expect((await getPlan(db, operator.actor, { planId: v2.id })).status).toBe(
      "approved",
    );
  });
});
