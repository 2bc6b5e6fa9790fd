import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { POST as postHook } from "@/app/api/agent/v1/hooks/claude-code/route";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import {
  auditLog,
  budgetAlerts,
  goals,
  notificationRecipients,
  notifications,
  projectMembers,
} from "@/db/schema";
import { createCaller } from "@/server/api/root";
import {
  claimNextTask,
  claimTasks,
  completeTask,
  createGoal,
  createTask,
  explainSkips,
} from "@/server/orchestration";
import { recordSpend } from "@/server/orchestration/testing";
import { setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { pinClock, rejection } from "@/tests/failures";
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import { sweepBudgetAlerts } from "./budget-alerts";
import { addBudget, listBudgets, removeBudget, updateBudget } from "./budgets";
import { updateProjectLimits } from "./project-limits";

// Period budgets as operators and agents meet them: spend, limit and
// "resets in" per budget in the project's time zone; claims and tool calls
// refused by a spent budget, which the refusal names; estimates reserved
// so concurrent claims cannot pass a budget together; alerts once per
// period.

let sequence = 0;

/** A PreToolUse body as Claude Code posts it; the policy's answer. */
async function preToolUse(secret: string) {
  sequence += 1;
  const response = await postHook(
    new Request("http://localhost/api/agent/v1/hooks/claude-code", {
      method: "POST",
      headers: {
        authorization: `Bearer ${secret}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({
        session_id: "budget-session",
        cwd: "/work/shop",
        hook_event_name: "PreToolUse",
        tool_name: "Bash",
        tool_input: { command: "npm run build" },
        tool_use_id: `toolu-budget-${sequence}`,
      }),
    }),
    { params: Promise.resolve({}) },
  );
  expect(response.status).toBe(200);

  return (
    (await response.json()) as {
      hookSpecificOutput?: {
        permissionDecision: string;
        permissionDecisionReason?: string;
      };
    }
  ).hookSpecificOutput;
}

describe.each(testKinds)("period budgets on %s", (kind) => {
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

  async function setup(timeZone = "UTC") {
    const db = handle.db;
    const project = await makeProject(db);
    const admin = await makeUser(db, "admin");
    const operator = await makeUser(db, "operator");
    const alpha = await makeAgent(db, project.id, "alpha");
    const beta = await makeAgent(db, project.id, "beta");
    if (timeZone !== "UTC") {
      await updateProjectLimits(db, admin.actor, {
        project: project.slug,
        timeZone,
      });
    }
    const goal = async (title: string, fields: Record<string, unknown> = {}) =>
      createGoal(db, admin.actor, { project: project.slug, title, ...fields });
    const spend = (
      usd: number,
      options: {
        agentId?: string;
        goalId?: string | null;
        tokens?: number;
        at?: Date;
      } = {},
    ) =>
      recordSpend(db, {
        projectId: project.id,
        agentId: options.agentId ?? alpha.agent.id,
        goalId: options.goalId ?? null,
        usd,
        tokens: options.tokens,
        at: options.at,
      });

    return { db, project, admin, operator, alpha, beta, goal, spend };
  }

  it("shows each budget's spend, limit and reset in the project's time zone", async () => {
    // 23:30 in Paris on Wednesday 15 July 2026 (UTC+2).
    pinClock(new Date("2026-07-15T21:30:00Z"));
    const { db, project, admin, operator, goal, spend } =
      await setup("Europe/Paris");
    const slug = project.slug;
    const ship = await goal("Ship");
    await addBudget(db, admin.actor, {
      project: slug,
      scope: "project",
      unit: "usd",
      period: "day",
      limit: 2,
      softPercent: 80,
    });
    await addBudget(db, admin.actor, {
      project: slug,
      scope: "project",
      unit: "usd",
      period: "week",
      limit: 10,
    });
    await addBudget(db, admin.actor, {
      project: slug,
      scope: "goal",
      goal: ship.id,
      unit: "tokens",
      period: "month",
      limit: 10_000,
    });
    await addBudget(db, admin.actor, {
      project: slug,
      scope: "agent",
      agent: "alpha",
      unit: "usd",
      period: "total",
      limit: 100,
    });
    // Today in Paris began at 22:00 UTC yesterday: this counts today...
    await spend(0.75, { at: new Date("2026-07-14T22:30:00Z") });
    // ...this was yesterday in Paris (Tuesday), same week and month.
    await spend(0.5, { at: new Date("2026-07-14T21:30:00Z") });
    // Last week (Sunday 12 July in Paris), same month.
    await spend(3, {
      goalId: ship.id,
      tokens: 4_000,
      at: new Date("2026-07-12T10:00:00Z"),
    });
    // Last month: counts only for the total.
    await spend(1, { at: new Date("2026-06-20T10:00:00Z") });

    // Operators see budgets but cannot change them.
    const list = await listBudgets(db, operator.actor, { project: slug });
    expect(list.timeZone).toBe("Europe/Paris");
    expect(list.canEdit).toBe(false);
    const byName = new Map(list.budgets.map((b) => [b.name, b]));
    expect(byName.get("Project daily USD budget")).toMatchObject({
      spend: 0.75,
      limit: 2,
      state: "ok",
      periodStart: new Date("2026-07-14T22:00:00Z"),
      periodEnd: new Date("2026-07-15T22:00:00Z"),
      resets: "resets in 30 min",
    });
    // The week starts on Monday 13 July in Paris.
    expect(byName.get("Project weekly USD budget")).toMatchObject({
      spend: 1.25,
      periodStart: new Date("2026-07-12T22:00:00Z"),
      resets: "resets in 4 d",
    });
    expect(byName.get("Goal 'Ship' monthly token budget")).toMatchObject({
      spend: 4_000,
      percent: 40,
      periodStart: new Date("2026-06-30T22:00:00Z"),
      periodEnd: new Date("2026-07-31T22:00:00Z"),
    });
    expect(byName.get("Agent alpha total USD budget")).toMatchObject({
      spend: 5.25,
      state: "ok",
      periodStart: null,
      resets: "does not reset",
    });

    // Past the soft threshold: the state says so.
    await spend(1, { at: new Date("2026-07-15T21:00:00Z") });
    const after = await listBudgets(db, admin.actor, { project: slug });
    expect(after.canEdit).toBe(true);
    expect(
      after.budgets.find((b) => b.name === "Project daily USD budget"),
    ).toMatchObject({ spend: 1.75, percent: 87.5, state: "soft" });
  });

  it("lets only admins change budgets, audits each change and names bad fields", async () => {
    const { db, project, admin, operator, goal } = await setup();
    const slug = project.slug;
    const ship = await goal("Ship");

    expect(
      await rejection(
        addBudget(db, operator.actor, {
          project: slug,
          scope: "project",
          unit: "usd",
          period: "day",
          limit: 5,
        }),
      ),
    ).toMatchObject({ status: 403 });
    const invalid = await rejection(
      addBudget(db, admin.actor, {
        project: slug,
        scope: "goal",
        unit: "tokens",
        period: "fortnight" as "day",
        limit: 10.5,
        softPercent: 120,
      }),
    );
    expect(invalid.status).toBe(400);
    expect(invalid.details).toEqual(
      expect.arrayContaining([
        { path: "period", message: "Period must be day, week, month or total" },
        {
          path: "softPercent",
          message: "Alert threshold must be between 1 and 99 percent",
        },
      ]),
    );
    const missingGoal = await rejection(
      addBudget(db, admin.actor, {
        project: slug,
        scope: "goal",
        unit: "tokens",
        period: "day",
        limit: 10.5,
      }),
    );
    expect(missingGoal.details).toEqual([
      { path: "goal", message: "A goal budget needs the goal it applies to" },
      { path: "limit", message: "A token limit is a whole number" },
    ]);

    const budget = await addBudget(db, admin.actor, {
      project: slug,
      scope: "goal",
      goal: ship.id,
      unit: "usd",
      period: "week",
      limit: 12.5,
      softPercent: 75,
    });
    await updateBudget(db, admin.actor, {
      project: slug,
      budget: budget.id,
      limit: 20,
      softPercent: null,
    });
    expect(
      (await listBudgets(db, admin.actor, { project: slug })).budgets,
    ).toEqual([
      expect.objectContaining({
        id: budget.id,
        name: "Goal 'Ship' weekly USD budget",
        limit: 20,
        softPercent: null,
      }),
    ]);
    await removeBudget(db, admin.actor, { project: slug, budget: budget.id });
    expect(
      (await listBudgets(db, admin.actor, { project: slug })).budgets,
    ).toEqual([]);

    const audited = await db
      .select({ action: auditLog.action, details: auditLog.details })
      .from(auditLog)
      .where(
        and(
          eq(auditLog.projectId, project.id),
          eq(auditLog.targetId, budget.id),
        ),
      )
      .orderBy(auditLog.id);
    expect(audited.map((row) => row.action)).toEqual([
      "guardrail.budget.add",
      "guardrail.budget.update",
      "guardrail.budget.remove",
    ]);
    expect(audited[1]?.details).toMatchObject({
      before: { limit: 12.5, softPercent: 75 },
      after: { limit: 20, softPercent: null },
    });

    // The console goes through the same functions.
    const caller = createCaller({ db, actor: operator.actor });
    await expect(
      caller.guardrails.budgets.add({
        project: slug,
        scope: "project",
        unit: "usd",
        period: "day",
        limit: 1,
      }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("refuses claims and tool calls once the project's day budget is spent, until the next day", async () => {
    // 21:00 in New York on 3 March 2026 (UTC-5): three hours to midnight.
    pinClock(new Date("2026-03-04T02:00:00Z"));
    const { db, project, admin, alpha, goal, spend } =
      await setup("America/New_York");
    const ship = await goal("Ship");
    await createTask(db, admin.actor, {
      goalId: ship.id,
      title: "One",
      priority: 1,
    });
    await createTask(db, admin.actor, { goalId: ship.id, title: "Two" });
    await addBudget(db, admin.actor, {
      project: project.slug,
      scope: "project",
      unit: "usd",
      period: "day",
      limit: 1,
    });
    expect(await preToolUse(alpha.secret)).toMatchObject({
      permissionDecision: "allow",
    });
    await spend(1.2, { goalId: ship.id });

    const message =
      "The project has spent $1.20 of its daily budget of $1.00; " +
      "resets in 3 h";
    const refused = await rejection(claimNextTask(db, alpha.actor, {}));
    expect(refused).toMatchObject({
      status: 403,
      message,
      details: expect.objectContaining({
        scope: "project",
        period: "day",
        spend: 1.2,
        limit: 1,
        resetsAt: "2026-03-04T05:00:00.000Z",
      }),
    });
    expect(await preToolUse(alpha.secret)).toEqual({
      hookEventName: "PreToolUse",
      permissionDecision: "deny",
      permissionDecisionReason:
        `${message}. Tool calls are refused until it resets or an admin ` +
        "raises it",
    });

    // Past midnight in New York the budget is whole again.
    pinClock(new Date("2026-03-04T05:01:00Z"));
    expect((await claimNextTask(db, alpha.actor, {}))?.task.title).toBe("One");
    expect(await preToolUse(alpha.secret)).toMatchObject({
      permissionDecision: "allow",
    });
  });

  it("holds every budget that applies and names the one that refused", async () => {
    const { db, project, admin, alpha, beta, goal, spend } = await setup();
    const slug = project.slug;
    const ship = await goal("Ship", { priority: 5 });
    const docs = await goal("Docs");
    const tokensCapped = await goal("Tokens");
    await db
      .update(goals)
      .set({ budgetTokens: 1_000 })
      .where(eq(goals.id, tokensCapped.id));
    await createTask(db, admin.actor, { goalId: ship.id, title: "Ship it" });
    await createTask(db, admin.actor, { goalId: docs.id, title: "Write it" });
    await createTask(db, admin.actor, {
      goalId: tokensCapped.id,
      title: "Count it",
      priority: 9,
    });
    await addBudget(db, admin.actor, {
      project: slug,
      scope: "project",
      unit: "usd",
      period: "month",
      limit: 100,
    });
    await addBudget(db, admin.actor, {
      project: slug,
      scope: "goal",
      goal: ship.id,
      unit: "usd",
      period: "total",
      limit: 5,
    });
    await addBudget(db, admin.actor, {
      project: slug,
      scope: "agent",
      agent: "beta",
      unit: "tokens",
      period: "day",
      limit: 500,
    });
    await spend(5, { goalId: ship.id });
    await spend(0, { goalId: tokensCapped.id, tokens: 1_200 });
    await spend(0, { agentId: beta.agent.id, tokens: 600 });

    // The goal's own token budget and the Ship budget are spent: alpha
    // gets the Docs task, and the operator sees why the others wait.
    expect((await claimNextTask(db, alpha.actor, {}))?.task.title).toBe(
      "Write it",
    );
    const why = await explainSkips(db, project.id, {});
    expect(why).toEqual([
      expect.objectContaining({
        title: "Count it",
        reason: "budget",
        message:
          "Goal 'Tokens' has spent 1,200 tokens of its budget of 1,000 tokens",
      }),
      expect.objectContaining({
        title: "Ship it",
        reason: "budget",
        message: "Goal 'Ship' has spent $5.00 of its total budget of $5.00",
      }),
    ]);
    expect(
      await rejection(claimNextTask(db, alpha.actor, { goalId: ship.id })),
    ).toMatchObject({
      status: 403,
      message: "Goal 'Ship' has spent $5.00 of its total budget of $5.00",
    });
    // Only the spent goals are left: a claim says which budget refused.
    expect(await rejection(claimNextTask(db, alpha.actor, {}))).toMatchObject({
      status: 403,
      message:
        "Goal 'Tokens' has spent 1,200 tokens of its budget of 1,000 tokens",
      details: expect.objectContaining({ rule: "goal.budget_tokens" }),
    });
    // Beta's own day budget is spent, whatever it would work on.
    expect(await rejection(claimNextTask(db, beta.actor, {}))).toMatchObject({
      status: 403,
      message: expect.stringMatching(
        /^Agent beta has spent 600 tokens of its daily budget of 500 tokens; resets in /,
      ),
    });

    // The goal's tool calls are refused while alpha holds one of its tasks.
    await updateBudgetLimit(ship.id, 50);
    const shipTask = await claimNextTask(db, alpha.actor, { goalId: ship.id });
    expect(shipTask?.task.title).toBe("Ship it");
    expect(await preToolUse(alpha.secret)).toMatchObject({
      permissionDecision: "allow",
    });
    await spend(46, { goalId: ship.id });
    expect(await preToolUse(alpha.secret)).toMatchObject({
      permissionDecision: "deny",
      permissionDecisionReason:
        "Goal 'Ship' has spent $51.00 of its total budget of $50.00. " +
        "Tool calls are refused until an admin raises it",
    });
    await completeTask(db, alpha.actor, { taskId: shipTask!.task.id });
    // Holding nothing of the goal, alpha is no longer bound by it.
    expect(await preToolUse(alpha.secret)).toMatchObject({
      permissionDecision: "allow",
    });

    async function updateBudgetLimit(goalId: string, limit: number) {
      const list = await listBudgets(db, admin.actor, { project: slug });
      const found = list.budgets.find(
        (b) => b.goalId === goalId && b.source === "budget",
      );
      await updateBudget(db, admin.actor, {
        project: slug,
        budget: found!.id,
        limit,
      });
    }
  });

  it("reserves estimates so 50 concurrent claims across goals cannot pass a $1 day budget", async () => {
    const { db, project, admin, goal } = await setup();
    const goals = await Promise.all(
      Array.from({ length: 5 }, (_, i) => goal(`Goal ${i}`)),
    );
    for (let i = 0; i < 50; i += 1) {
      await createTask(db, admin.actor, {
        goalId: goals[i % 5]!.id,
        title: `Cheap ${i}`,
        scope: [`cheap/${i}/**`],
        estimateUsd: 0.1,
      });
    }
    await addBudget(db, admin.actor, {
      project: project.slug,
      scope: "project",
      unit: "usd",
      period: "day",
      limit: 1,
    });
    const fleet = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        makeAgent(db, project.id, `cheap-${i}`),
      ),
    );
    const results = await Promise.allSettled(
      fleet.map((agent) => claimNextTask(db, agent.actor, {})),
    );
    for (const result of results) {
      if (result.status === "rejected") throw result.reason;
    }
    const won = results.filter(
      (r) => r.status === "fulfilled" && r.value !== null,
    );
    // $1 holds ten $0.10 tasks, across the goals; the others get nothing.
    expect(won).toHaveLength(10);

    const loser =
      fleet[
        results.findIndex((r) => r.status === "fulfilled" && r.value === null)
      ]!;
    const none = await claimTasks(db, loser.actor, {});
    expect(none.claimed).toEqual([]);
    expect(none.skipped[0]).toMatchObject({
      reason: "budget",
      message: expect.stringContaining(
        "The project has $0.00 spent and $1.00 reserved by tasks in " +
          "progress of its daily budget of $1.00",
      ),
    });
    // The task page says the same to an operator.
    const caller = createCaller({ db, actor: admin.actor });
    const waiting = await caller.orchestration.tasks.whyNotClaimed({
      taskId: none.skipped[0]!.taskId,
    });
    expect(waiting.skip).toMatchObject({
      reason: "budget",
      message: expect.stringContaining("daily budget of $1.00"),
    });
  });

  it("alerts once per period at the soft threshold and at the limit", async () => {
    pinClock(new Date("2026-05-10T12:00:00Z"));
    const { db, project, admin, operator, spend } = await setup();
    // The project's own admins and operators are the ones told.
    await db.insert(projectMembers).values(
      [admin, operator].map((member, i) => ({
        projectId: project.id,
        userId: member.user.id,
        role: i === 0 ? "admin" : "operator",
        createdAt: new Date(),
      })),
    );
    // The sweeper passes over every project; count this one's alerts.
    const sweep = async () => {
      await sweepBudgetAlerts(db);
      const rows = await db
        .select({ id: notifications.id })
        .from(notifications)
        .where(eq(notifications.projectId, project.id));

      return rows.length;
    };
    const budget = await addBudget(db, admin.actor, {
      project: project.slug,
      scope: "project",
      unit: "usd",
      period: "day",
      limit: 10,
      softPercent: 80,
    });
    await spend(5);
    expect(await sweep()).toBe(0);
    await spend(3.5);
    expect(await sweep()).toBe(1);
    expect(await sweep()).toBe(1);
    await spend(2);
    expect(await sweep()).toBe(2);
    expect(await sweep()).toBe(2);

    const raised = await db
      .select()
      .from(notifications)
      .where(eq(notifications.projectId, project.id))
      .orderBy(notifications.id);
    expect(raised).toEqual([
      expect.objectContaining({
        kind: "budget_threshold",
        severity: "warning",
        title: "Project daily USD budget reached 80%",
        body: "$8.50 spent of $10.00 (85%); resets in 12 h.",
        link: `/projects/${project.slug}/guardrails`,
      }),
      expect.objectContaining({
        kind: "budget_exhausted",
        severity: "critical",
        title: "Project daily USD budget is used up",
        body: expect.stringContaining(
          "The project has spent $10.50 of its daily budget of $10.00",
        ),
      }),
    ]);
    // Every operator of the project is told.
    const recipients = await db
      .select({ userId: notificationRecipients.userId })
      .from(notificationRecipients)
      .where(eq(notificationRecipients.notificationId, raised[0]!.id));
    expect(recipients.map((r) => r.userId).sort()).toEqual(
      [admin.user.id, operator.user.id].sort(),
    );

    // The next day is a new period: spend there alerts again.
    pinClock(new Date("2026-05-11T12:00:00Z"));
    await spend(11);
    expect(await sweep()).toBe(3);
    const rows = await db
      .select({ level: budgetAlerts.level, start: budgetAlerts.periodStart })
      .from(budgetAlerts)
      .where(eq(budgetAlerts.budgetId, budget.id))
      .orderBy(budgetAlerts.periodStart, budgetAlerts.level);
    expect(rows).toEqual([
      { level: "hard", start: new Date("2026-05-10T00:00:00Z") },
      { level: "soft", start: new Date("2026-05-10T00:00:00Z") },
      { level: "hard", start: new Date("2026-05-11T00:00:00Z") },
    ]);
  });

  it("counts a half-hour zone's day from its own midnight", async () => {
    // 00:10 on 1 August in Kolkata (UTC+5:30) is 18:40 UTC on 31 July.
    pinClock(new Date("2026-07-31T18:40:00Z"));
    const { db, project, admin, spend } = await setup("Asia/Kolkata");
    await addBudget(db, admin.actor, {
      project: project.slug,
      scope: "project",
      unit: "usd",
      period: "day",
      limit: 5,
    });
    // 18:20 UTC is 23:50 on 31 July in Kolkata: yesterday, though it falls
    // in the same UTC hour as today's spend.
    await spend(2, { at: new Date("2026-07-31T18:20:00Z") });
    await spend(1, { at: new Date("2026-07-31T18:35:00Z") });
    const [day] = (
      await listBudgets(db, admin.actor, { project: project.slug })
    ).budgets;
    expect(day).toMatchObject({
      spend: 1,
      periodStart: new Date("2026-07-31T18:30:00Z"),
      resets: "resets in 23 h 50 min",
    });
  });

  it("takes the project's time zone only as an IANA name", async () => {
    const { db, project, admin, operator } = await setup();
    expect(
      await rejection(
        updateProjectLimits(db, admin.actor, {
          project: project.slug,
          timeZone: "Mars/Olympus",
        }),
      ),
    ).toEqual({
      status: 400,
      message:
        "Invalid input: timeZone: Unknown time zone 'Mars/Olympus'; use an " +
        "IANA name such as Europe/Paris, America/New_York or UTC",
      details: [
        {
          path: "timeZone",
          message:
            "Unknown time zone 'Mars/Olympus'; use an IANA name such as " +
            "Europe/Paris, America/New_York or UTC",
        },
      ],
    });
    // Names that depend on the server refuse on every database alike.
    for (const timeZone of ["localtime", "posix/Europe/Paris", "posixrules"]) {
      expect(
        await rejection(
          updateProjectLimits(db, admin.actor, {
            project: project.slug,
            timeZone,
          }),
        ),
      ).toMatchObject({ status: 400, details: [{ path: "timeZone" }] });
    }
    expect(
      await rejection(
        updateProjectLimits(db, operator.actor, {
          project: project.slug,
          timeZone: "Europe/Paris",
        }),
      ),
    ).toMatchObject({ status: 403 });
    const caller = createCaller({ db, actor: admin.actor });
    await caller.guardrails.limits.update({
      project: project.slug,
      timeZone: "Asia/Tokyo",
    });
    expect(
      await caller.guardrails.limits.get({ project: project.slug }),
    ).toMatchObject({ timeZone: "Asia/Tokyo", canEdit: true });
  });
});
