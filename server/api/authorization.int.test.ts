import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database, DatabaseHandle } from "@/db/client";
import { approvals } from "@/db/schema";
import { addBudget } from "@/server/guardrails/budgets";
import { addRule } from "@/server/guardrails/rules";
import type { Actor } from "@/server/identity/actor";
import { setMemberRole } from "@/server/identity/projects";
import { cli } from "@/server/identity/test-fixtures";
import {
  blockTask,
  claimNextTask,
  createGoal,
  createTask,
  sendDirective,
  submitPlan,
} from "@/server/orchestration";
import { newId, now } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import { appRouter, createCaller } from "./root";

// The role-by-route matrix: every tRPC procedure of the console, called by
// an admin, an operator and a viewer of the project, a signed-in person who
// is not a member (who holds their instance role, here viewer; see
// server/identity/access.ts), an instance admin, and nobody signed in. A
// caller below the role a procedure needs is refused (FORBIDDEN, or
// UNAUTHORIZED when signed out); a caller with it is not, whatever else
// the call then meets (a conflict, a missing row). The procedures are read
// off the router itself, so one added without a row in `expected` fails
// here until someone writes down who may call it.

type Need =
  | "public"
  | "signedIn"
  | "viewer"
  | "operator"
  | "admin"
  // Creating a project needs an instance role of operator or more.
  | "instanceOperator";

type Subject =
  "signedOut" | "nonMember" | "viewer" | "operator" | "admin" | "instanceAdmin";

const subjects: Subject[] = [
  "signedOut",
  "nonMember",
  "viewer",
  "operator",
  "admin",
  "instanceAdmin",
];

const mayCall: Record<Need, Subject[]> = {
  public: subjects,
  signedIn: subjects.slice(1),
  viewer: subjects.slice(1),
  operator: ["operator", "admin", "instanceAdmin"],
  admin: ["admin", "instanceAdmin"],
  instanceOperator: ["instanceAdmin"],
};

interface Fixture {
  project: string;
  goalId: string;
  taskId: string;
  blockedTaskId: string;
  planId: string;
  escalationId: string;
  directiveId: string;
  ruleId: string;
  agent: string;
  agentTokenId: string;
  approvalId: string;
  spareEmail: string;
  /** One budget to change, another to remove. */
  budgetIds: [string, string];
}

type Row = [Need, (fx: Fixture) => unknown];

const missing = "00000000-0000-4000-8000-000000000000";

/** Who may call each procedure, and an input that reaches its role check. */
const expected: Record<string, Row> = {
  "identity.setupStatus": ["public", () => undefined],
  "identity.setup": [
    "public",
    () => ({ email: "late@example.test", password: "password1" }),
  ],
  "identity.me": ["signedIn", () => undefined],
  "identity.projects.list": ["signedIn", () => undefined],
  "identity.projects.create": [
    "instanceOperator",
    () => ({ slug: `m-${newId().slice(0, 8)}` }),
  ],
  "identity.projects.overview": ["viewer", (fx) => ({ project: fx.project })],
  "identity.members.list": ["viewer", (fx) => ({ project: fx.project })],
  "identity.members.set": [
    "admin",
    (fx) => ({ project: fx.project, email: fx.spareEmail, role: "viewer" }),
  ],
  "identity.agents.list": ["viewer", (fx) => ({ project: fx.project })],
  "identity.agents.create": [
    "admin",
    (fx) => ({ project: fx.project, name: `made-${newId().slice(0, 6)}` }),
  ],
  "identity.agents.pause": [
    "operator",
    (fx) => ({ project: fx.project, agent: fx.agent, reason: "matrix" }),
  ],
  "identity.agents.resume": [
    "operator",
    (fx) => ({ project: fx.project, agent: fx.agent }),
  ],
  "identity.agents.setCapabilities": [
    "operator",
    (fx) => ({ project: fx.project, agent: fx.agent, capabilities: [] }),
  ],
  "identity.tokens.list": ["viewer", (fx) => ({ project: fx.project })],
  "identity.tokens.create": [
    "admin",
    (fx) => ({ project: fx.project, agent: fx.agent }),
  ],
  "identity.tokens.revoke": [
    "admin",
    (fx) => ({ project: fx.project, tokenId: fx.agentTokenId }),
  ],
  // A person's own tokens: anyone signed in, for themselves only.
  "identity.personalTokens.list": ["signedIn", () => undefined],
  "identity.personalTokens.create": ["signedIn", () => ({ name: "matrix" })],
  "identity.personalTokens.revoke": ["signedIn", () => ({ tokenId: missing })],
  "identity.audit.list": ["viewer", (fx) => ({ project: fx.project })],

  "orchestration.goals.list": ["viewer", (fx) => ({ project: fx.project })],
  "orchestration.goals.get": ["viewer", (fx) => ({ goalId: fx.goalId })],
  "orchestration.goals.graph": ["viewer", (fx) => ({ goalId: fx.goalId })],
  "orchestration.goals.create": [
    "operator",
    (fx) => ({ project: fx.project, title: "From the matrix" }),
  ],
  "orchestration.goals.update": [
    "operator",
    (fx) => ({ goalId: fx.goalId, description: "updated by the matrix" }),
  ],
  "orchestration.goals.setCriterion": [
    "operator",
    (fx) => ({ goalId: fx.goalId, index: 0, done: true }),
  ],
  "orchestration.tasks.list": ["viewer", (fx) => ({ project: fx.project })],
  "orchestration.tasks.get": ["viewer", (fx) => ({ taskId: fx.taskId })],
  "orchestration.tasks.detail": ["viewer", (fx) => ({ taskId: fx.taskId })],
  "orchestration.tasks.whyNotClaimed": [
    "viewer",
    (fx) => ({ taskId: fx.taskId }),
  ],
  "orchestration.tasks.activity": ["viewer", (fx) => ({ taskId: fx.taskId })],
  "orchestration.tasks.setDependencies": [
    "operator",
    (fx) => ({ taskId: fx.taskId, dependsOn: [] }),
  ],
  "orchestration.tasks.create": [
    "operator",
    (fx) => ({ goalId: fx.goalId, title: "From the matrix" }),
  ],
  "orchestration.tasks.review": [
    "operator",
    (fx) => ({ taskId: fx.taskId, decision: "accept" }),
  ],
  "orchestration.tasks.release": ["operator", (fx) => ({ taskId: fx.taskId })],
  "orchestration.tasks.cancel": [
    "operator",
    (fx) => ({ taskId: fx.blockedTaskId }),
  ],
  "orchestration.tasks.reassign": [
    "operator",
    (fx) => ({ taskId: fx.taskId, agent: fx.agent }),
  ],
  "orchestration.plans.list": ["viewer", (fx) => ({ goalId: fx.goalId })],
  "orchestration.plans.get": ["viewer", (fx) => ({ planId: fx.planId })],
  "orchestration.plans.overlaps": ["viewer", (fx) => ({ planId: fx.planId })],
  "orchestration.plans.submit": [
    "operator",
    (fx) => ({
      goalId: fx.goalId,
      tasks: [{ key: "m", title: "Matrix plan task", scope: ["m/**"] }],
    }),
  ],
  "orchestration.plans.review": [
    "operator",
    (fx) => ({ planId: fx.planId, decision: "reject", comment: "matrix" }),
  ],
  "orchestration.settings.get": ["viewer", (fx) => ({ project: fx.project })],
  "orchestration.settings.update": [
    "admin",
    (fx) => ({ project: fx.project, maxAttempts: 4 }),
  ],
  "orchestration.escalations.list": [
    "viewer",
    (fx) => ({ project: fx.project }),
  ],
  "orchestration.escalations.count": [
    "viewer",
    (fx) => ({ project: fx.project }),
  ],
  "orchestration.escalations.resolve": [
    "operator",
    (fx) => ({ escalationId: fx.escalationId, action: "dismiss" }),
  ],
  "orchestration.directives.list": [
    "viewer",
    (fx) => ({ project: fx.project }),
  ],
  "orchestration.directives.send": [
    "operator",
    (fx) => ({ project: fx.project, agent: fx.agent, body: "matrix" }),
  ],
  "orchestration.directives.cancel": [
    "operator",
    (fx) => ({ directiveId: fx.directiveId }),
  ],

  // A search is logged as a lookup, so it is a mutation; reading is enough.
  "context.search": ["viewer", (fx) => ({ project: fx.project, q: "lease" })],
  "context.documents": ["viewer", (fx) => ({ project: fx.project })],
  "context.savings": ["viewer", (fx) => ({ projectSlug: fx.project })],
  "context.browse": ["viewer", (fx) => ({ project: fx.project })],
  "context.document": [
    "viewer",
    (fx) => ({ project: fx.project, documentId: missing }),
  ],
  "context.restore": [
    "operator",
    (fx) => ({ project: fx.project, documentId: missing }),
  ],
  "context.settings": ["viewer", (fx) => ({ project: fx.project })],
  "context.setSettings": [
    "admin",
    (fx) => ({ project: fx.project, staleAfterDays: 30 }),
  ],
  "context.setStatus": [
    "operator",
    (fx) => ({ project: fx.project, documentId: missing, status: "stale" }),
  ],
  "context.upload": [
    "operator",
    (fx) => ({
      project: fx.project,
      files: [{ path: "matrix.md", content: "# Matrix\n\nRoles." }],
    }),
  ],

  "observability.sessions.list": ["viewer", (fx) => ({ project: fx.project })],
  "observability.sessions.detail": [
    "viewer",
    (fx) => ({ project: fx.project, sessionId: missing }),
  ],
  "observability.sessions.events": [
    "viewer",
    (fx) => ({ project: fx.project, sessionId: missing }),
  ],
  "observability.sessions.updates": [
    "viewer",
    (fx) => ({ project: fx.project, sessionId: missing, after: 0 }),
  ],
  "observability.sessions.chain": [
    "viewer",
    (fx) => ({ project: fx.project, sessionId: missing }),
  ],
  "observability.retention.get": ["viewer", (fx) => ({ project: fx.project })],
  "observability.retention.update": [
    "admin",
    (fx) => ({
      project: fx.project,
      eventRetentionDays: 200,
      rollupRetentionDays: 800,
    }),
  ],
  "observability.spend": ["viewer", (fx) => ({ project: fx.project })],
  "observability.spendOverview": ["viewer", (fx) => ({ project: fx.project })],
  "observability.spendOverviewCsv": [
    "viewer",
    (fx) => ({ project: fx.project }),
  ],
  "observability.flagRules.list": ["viewer", (fx) => ({ project: fx.project })],
  "observability.flagRules.create": [
    "admin",
    (fx) => ({
      project: fx.project,
      name: "prod-host",
      kind: "substring",
      pattern: "prod.internal",
      severity: "high",
    }),
  ],
  "observability.flagRules.update": [
    "admin",
    (fx) => ({ project: fx.project, rule: missing, enabled: false }),
  ],
  "observability.flagRules.delete": [
    "admin",
    (fx) => ({ project: fx.project, rule: missing }),
  ],
  "observability.prices.list": ["viewer", (fx) => ({ project: fx.project })],
  "observability.prices.unpriced": [
    "viewer",
    (fx) => ({ project: fx.project }),
  ],
  "observability.prices.createOverride": [
    "admin",
    (fx) => ({
      project: fx.project,
      pattern: "matrix-*",
      input: 1,
      output: 2,
      effectiveFrom: "2026-01-01",
    }),
  ],
  "observability.prices.deleteOverride": [
    "admin",
    (fx) => ({ project: fx.project, override: missing }),
  ],
  "observability.prices.reprice": ["admin", (fx) => ({ project: fx.project })],

  "guardrails.budgets.list": ["viewer", (fx) => ({ project: fx.project })],
  "guardrails.budgets.add": [
    "admin",
    (fx) => ({
      project: fx.project,
      scope: "project",
      unit: "usd",
      period: "day",
      limit: 5,
    }),
  ],
  "guardrails.budgets.update": [
    "admin",
    (fx) => ({ project: fx.project, budget: fx.budgetIds[0], limit: 6 }),
  ],
  "guardrails.budgets.remove": [
    "admin",
    (fx) => ({ project: fx.project, budget: fx.budgetIds[1] }),
  ],
  "guardrails.limits.get": ["viewer", (fx) => ({ project: fx.project })],
  "guardrails.limits.update": [
    "admin",
    (fx) => ({ project: fx.project, timeZone: "UTC" }),
  ],
  "guardrails.limits.setAgent": [
    "operator",
    (fx) => ({ project: fx.project, agent: fx.agent, maxActiveTasks: null }),
  ],
  "guardrails.rules.list": ["viewer", (fx) => ({ project: fx.project })],
  "guardrails.rules.add": [
    "admin",
    (fx) => ({
      project: fx.project,
      scope: "project",
      kind: "tool",
      tool: "WebFetch",
      decision: "deny",
    }),
  ],
  "guardrails.rules.remove": [
    "admin",
    (fx) => ({ project: fx.project, rule: fx.ruleId }),
  ],
  "guardrails.pause.state": ["viewer", (fx) => ({ project: fx.project })],
  "guardrails.pause.pause": [
    "operator",
    (fx) => ({ project: fx.project, reason: "matrix" }),
  ],
  "guardrails.pause.resume": ["operator", (fx) => ({ project: fx.project })],

  "reservations.list": ["viewer", (fx) => ({ project: fx.project })],

  "approvals.list": ["viewer", (fx) => ({ project: fx.project })],
  "approvals.count": ["viewer", (fx) => ({ project: fx.project })],
  "approvals.get": ["viewer", (fx) => ({ approvalId: fx.approvalId })],
  "approvals.decide": [
    "operator",
    (fx) => ({ approvalId: fx.approvalId, decision: "deny" }),
  ],

  // Each person's own inbox.
  "notifications.list": ["signedIn", () => ({})],
  "notifications.unreadCount": ["signedIn", () => ({})],
  "notifications.markRead": ["signedIn", () => ({ ids: [1] })],
  "notifications.markAllRead": ["signedIn", () => ({})],
  "notifications.webhooks.list": ["admin", (fx) => ({ project: fx.project })],
  "notifications.webhooks.create": [
    "admin",
    (fx) => ({ project: fx.project, url: "https://hooks.example.test/f" }),
  ],
  "notifications.webhooks.update": [
    "admin",
    (fx) => ({ project: fx.project, endpoint: missing, active: false }),
  ],
  "notifications.webhooks.remove": [
    "admin",
    (fx) => ({ project: fx.project, endpoint: missing }),
  ],
  "notifications.webhooks.test": [
    "admin",
    (fx) => ({ project: fx.project, endpoint: missing }),
  ],
  "notifications.webhooks.deliveries": [
    "admin",
    (fx) => ({ project: fx.project }),
  ],
  "notifications.webhooks.retry": [
    "admin",
    (fx) => ({ project: fx.project, delivery: 1 }),
  ],
};

/** Every procedure path of the console's router, e.g. "identity.me". */
function procedurePaths(): string[] {
  const procedures = (
    appRouter as unknown as { _def: { procedures: Record<string, unknown> } }
  )._def.procedures;

  return Object.keys(procedures).sort();
}

/** The tRPC code a call ended with, or "ok". */
async function outcome(
  db: Database,
  actor: Extract<Actor, { kind: "user" }> | null,
  path: string,
  input: unknown,
): Promise<string> {
  const caller = createCaller({ db, actor }) as unknown as Record<
    string,
    unknown
  >;
  let target: unknown = caller;
  for (const part of path.split(".")) {
    target = (target as Record<string, unknown>)[part];
  }
  try {
    await (target as (input: unknown) => Promise<unknown>)(input);

    return "ok";
  } catch (error) {
    if (error instanceof TRPCError) return error.code;
    throw error;
  }
}

async function buildFixture(db: Database) {
  const project = await makeProject(db);
  const agent = await makeAgent(db, project.id, "worker");
  const spare = await makeUser(db, "viewer");
  const people = {
    nonMember: await makeUser(db, "viewer"),
    viewer: await makeUser(db, "viewer"),
    operator: await makeUser(db, "viewer"),
    admin: await makeUser(db, "viewer"),
    instanceAdmin: await makeUser(db, "admin"),
  };
  for (const role of ["viewer", "operator", "admin"] as const) {
    await setMemberRole(db, cli, {
      project: project.slug,
      email: people[role].user.email,
      role,
    });
  }
  const goal = await createGoal(db, cli, {
    project: project.slug,
    title: "Matrix",
  });
  // A task the agent blocks (an escalation), then one ready task.
  const blocked = await createTask(db, cli, {
    goalId: goal.id,
    title: "blocked",
    scope: ["b/**"],
  });
  await claimNextTask(db, agent.actor, {});
  const { escalation } = await blockTask(db, agent.actor, {
    taskId: blocked.id,
    reason: "needs a person",
  });
  const task = await createTask(db, cli, {
    goalId: goal.id,
    title: "ready",
    scope: ["r/**"],
  });
  const plan = await submitPlan(db, agent.actor, {
    goalId: goal.id,
    tasks: [{ key: "p", title: "planned", scope: ["p/**"] }],
  });
  const directive = await sendDirective(db, cli, {
    project: project.slug,
    agent: agent.agent.name,
    body: "hello",
  });
  const rule = await addRule(db, cli, {
    project: project.slug,
    scope: "project",
    kind: "tool",
    tool: "Bash",
    decision: "deny",
  });
  const approvalId = newId();
  await db.insert(approvals).values({
    id: approvalId,
    projectId: project.id,
    kind: "tool",
    title: "Run a migration",
    payload: { tool: "Bash" },
    requestedAt: now(),
  });
  const budgetIds: string[] = [];
  for (const limit of [10, 20]) {
    const budget = await addBudget(db, cli, {
      project: project.slug,
      scope: "project",
      unit: "usd",
      period: "month",
      limit,
    });
    budgetIds.push(budget.id);
  }
  const fx: Fixture = {
    project: project.slug,
    goalId: goal.id,
    taskId: task.id,
    blockedTaskId: blocked.id,
    planId:
      (plan as { plan?: { id: string }; id?: string }).plan?.id ??
      (plan as { id: string }).id,
    escalationId: escalation.id,
    directiveId: directive.id,
    ruleId: (rule as { id: string }).id,
    agent: agent.agent.name,
    agentTokenId: agent.token.id,
    approvalId,
    spareEmail: spare.user.email,
    budgetIds: [budgetIds[0], budgetIds[1]],
  };
  const actors: Record<Subject, Extract<Actor, { kind: "user" }> | null> = {
    signedOut: null,
    nonMember: people.nonMember.actor,
    viewer: people.viewer.actor,
    operator: people.operator.actor,
    admin: people.admin.actor,
    instanceAdmin: people.instanceAdmin.actor,
  };

  return { fx, actors };
}

describe.each(testKinds)(
  "who may call each console procedure, on %s",
  (kind) => {
    let handle: DatabaseHandle;
    beforeAll(async () => {
      handle = await openTestDatabase(kind);
    });
    afterAll(() => handle.close());

    it("has a row in the expected-role table for every procedure", () => {
      const paths = procedurePaths();
      const unlisted = paths.filter((path) => !(path in expected));
      const stale = Object.keys(expected).filter(
        (path) => !paths.includes(path),
      );
      expect(
        unlisted,
        "procedures without a row in `expected` (say who may call them)",
      ).toEqual([]);
      expect(stale, "rows in `expected` for procedures that are gone").toEqual(
        [],
      );
    });

    it("refuses every caller below the needed role and no one at or above it", async () => {
      const { fx, actors } = await buildFixture(handle.db);
      const wrong: string[] = [];
      for (const path of procedurePaths()) {
        const row = expected[path];
        if (!row) continue;
        const [need, input] = row;
        // Lowest first: a refused call changes nothing, so the callers who
        // may then act on the same rows as the matrix leaves them.
        for (const subject of subjects) {
          const code = await outcome(
            handle.db,
            actors[subject],
            path,
            input(fx),
          );
          const allowed = mayCall[need].includes(subject);
          const refusal =
            subject === "signedOut" ? "UNAUTHORIZED" : "FORBIDDEN";
          if (allowed && (code === "UNAUTHORIZED" || code === "FORBIDDEN")) {
            wrong.push(
              `${path}: ${subject} should pass (${need}) but got ${code}`,
            );
          }
          if (!allowed && code !== refusal) {
            wrong.push(
              `${path}: ${subject} should get ${refusal} but got ${code}`,
            );
          }
        }
      }
      expect(wrong).toEqual([]);
    }, 300_000);
  },
);
