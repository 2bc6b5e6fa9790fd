import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GET as getApprovalRoute } from "@/app/api/agent/v1/approvals/[id]/route";
import { GET as listApprovalsRoute } from "@/app/api/agent/v1/approvals/route";
import { POST as postBudgetRequest } from "@/app/api/agent/v1/budget-requests/route";
import { POST as postHook } from "@/app/api/agent/v1/hooks/claude-code/route";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import {
  apiTokens,
  approvals,
  auditLog,
  notifications,
  projectMembers,
} from "@/db/schema";
import { DomainError } from "@/server/errors";
import { createGoal, getGoal } from "@/server/orchestration";
import { now, setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import { decideApproval, listApprovals } from "./approvals";
import { MAX_PENDING_PER_AGENT } from "./approval-store";
import { setAskWaitSeconds } from "./ask";
import { addRule } from "./rules";

// Hostile and careless callers of the approvals queue, the budget request
// and approval routes and the "ask" flow of the PreToolUse hook: bad input
// is a 4xx naming the field, other agents' and projects' approvals stay
// out of reach, and concurrent requests and decisions count once.

interface ErrorBody {
  error?: { code: string; message: string; details?: { path: string }[] };
}

function post(
  handler: typeof postBudgetRequest,
  url: string,
  secret: string,
  body: string,
) {
  return handler(
    new Request(url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${secret}`,
        "content-type": "application/json",
      },
      body,
    }),
    { params: Promise.resolve({}) },
  );
}

async function budgetRequest(secret: string, body: unknown) {
  const response = await post(
    postBudgetRequest,
    "http://localhost/api/agent/v1/budget-requests",
    secret,
    typeof body === "string" ? body : JSON.stringify(body),
  );

  return {
    status: response.status,
    body: (await response.json()) as ErrorBody & {
      approval?: { id: string; status: string };
    },
  };
}

async function myApprovals(secret: string, query = "") {
  const response = await listApprovalsRoute(
    new Request(`http://localhost/api/agent/v1/approvals${query}`, {
      headers: { authorization: `Bearer ${secret}` },
    }),
    { params: Promise.resolve({}) },
  );

  return {
    status: response.status,
    body: (await response.json()) as ErrorBody & {
      approvals?: { id: string; status: string; kind: string }[];
    },
  };
}

async function readApproval(secret: string, id: string, query = "") {
  const response = await getApprovalRoute(
    new Request(`http://localhost/api/agent/v1/approvals/${id}${query}`, {
      headers: { authorization: `Bearer ${secret}` },
    }),
    { params: Promise.resolve({ id }) },
  );

  return {
    status: response.status,
    body: (await response.json()) as ErrorBody & {
      approval?: { id: string; status: string };
    },
  };
}

let sequence = 0;

async function preToolUse(secret: string, command: string, cwd = "/repo") {
  sequence += 1;
  const response = await post(
    postHook,
    "http://localhost/api/agent/v1/hooks/claude-code",
    secret,
    JSON.stringify({
      session_id: "sess-adv",
      hook_event_name: "PreToolUse",
      tool_name: "Bash",
      tool_input: { command },
      tool_use_id: `toolu-adv-${sequence}`,
      cwd,
    }),
  );
  const json = (await response.json()) as {
    hookSpecificOutput?: { permissionDecision: string };
  };

  return {
    status: response.status,
    approvalId: response.headers.get("x-flotilla-approval-id"),
    decision: json.hookSpecificOutput?.permissionDecision,
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

describe.each(testKinds)("adversarial approvals on %s", (kind) => {
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
    const goal = await createGoal(db, operator.actor, {
      project: project.slug,
      title: "Migrate billing",
      budgetUsd: 10,
    });

    return { db, project, agent, admin, operator, viewer, goal };
  }

  it("refuses malformed budget requests with a 400 naming the field", async () => {
    const { agent, goal } = await setup();
    const cases: [unknown, string][] = [
      [{ goalId: goal.id, amountUsd: "5", reason: "x" }, "amountUsd"],
      [{ goalId: goal.id, amountUsd: "0x10", reason: "x" }, "amountUsd"],
      [{ goalId: goal.id, amountUsd: -5, reason: "x" }, "amountUsd"],
      [{ goalId: goal.id, amountUsd: 0, reason: "x" }, "amountUsd"],
      [{ goalId: goal.id, amountUsd: 1e308, reason: "x" }, "amountUsd"],
      [{ goalId: goal.id, amountUsd: null, reason: "x" }, "amountUsd"],
      [{ goalId: goal.id, amountUsd: 0.001, reason: "x" }, "amountUsd"],
      [{ goalId: goal.id, amountUsd: 5, reason: "   " }, "reason"],
      [{ goalId: goal.id, amountUsd: 5, reason: "x".repeat(10_000) }, "reason"],
      [{ goalId: "not-a-uuid", amountUsd: 5, reason: "x" }, "goalId"],
      [{ goalId: goal.id, amountUsd: 5, reason: "x", extra: 1 }, ""],
    ];
    for (const [body, field] of cases) {
      const answer = await budgetRequest(agent.secret, body);
      expect(answer.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      if (field) {
        expect(answer.body.error?.details?.map((d) => d.path)).toContain(field);
      }
    }
    // Not JSON at all, and JSON's stand-ins for NaN and Infinity.
    for (const raw of [
      "{",
      `{"goalId":"${goal.id}","amountUsd":NaN,"reason":"x"}`,
      `{"goalId":"${goal.id}","amountUsd":Infinity,"reason":"x"}`,
      "[]",
      "null",
    ]) {
      expect((await budgetRequest(agent.secret, raw)).status, raw).toBe(400);
    }
  });

  it("keeps budget requests and approvals within the agent's own project and token", async () => {
    const { db, agent, goal, operator } = await setup();
    const other = await makeProject(db);
    const stranger = await makeAgent(db, other.id, "stranger");
    const body = { goalId: goal.id, amountUsd: 1, reason: "more" };
    expect((await budgetRequest(stranger.secret, body)).status).toBe(404);
    expect((await budgetRequest("flt_not-a-real-token", body)).status).toBe(
      401,
    );
    // A person's token is not an agent's.
    expect((await budgetRequest(operator.secret, body)).status).toBe(403);

    const created = await budgetRequest(agent.secret, body);
    expect(created.status).toBe(201);
    const id = created.body.approval!.id;
    // Each agent lists only what it asked for.
    const mine = await myApprovals(agent.secret, "?status=pending");
    expect(mine.status).toBe(200);
    expect(mine.body.approvals?.map((a) => [a.id, a.kind])).toEqual([
      [id, "budget_increase"],
    ]);
    expect((await myApprovals(stranger.secret)).body.approvals).toEqual([]);
    const sneaky = await myApprovals(agent.secret, "?status=all&project=x");
    expect(sneaky.status).toBe(400);
    expect((await readApproval(stranger.secret, id)).status).toBe(404);
    const sibling = await makeAgent(db, agent.agent.projectId, "sibling");
    expect((await readApproval(sibling.secret, id)).status).toBe(404);
    expect((await readApproval(agent.secret, "../../etc")).status).toBe(400);
    for (const wait of ["-1", "51", "NaN", "Infinity", "abc", "0x10", "1e1"]) {
      const answer = await readApproval(agent.secret, id, `?wait=${wait}`);
      expect(answer.status, wait).toBe(400);
      expect(answer.body.error?.details?.map((d) => d.path)).toContain("wait");
    }

    await db
      .update(apiTokens)
      .set({ revokedAt: now() })
      .where(eq(apiTokens.id, agent.token.id));
    // A revoked token is refused, saying so.
    for (const answer of [
      await readApproval(agent.secret, id),
      await budgetRequest(agent.secret, body),
    ]) {
      expect(answer.status).toBe(403);
      expect(answer.body.error?.message).toMatch(/revoked/i);
    }
  });

  it("opens one approval for many identical concurrent budget requests", async () => {
    const { db, project, agent, goal } = await setup();
    const body = { goalId: goal.id, amountUsd: 2.5, reason: "slow tests" };
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => budgetRequest(agent.secret, body)),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([
      200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 201,
    ]);
    expect(new Set(answers.map((a) => a.body.approval?.id)).size).toBe(1);
    const rows = await db
      .select()
      .from(approvals)
      .where(
        and(
          eq(approvals.projectId, project.id),
          eq(approvals.kind, "budget_increase"),
        ),
      );
    expect(rows).toHaveLength(1);
  });

  it("decides an approval once when two operators click at the same time", async () => {
    const { db, agent, goal, operator, admin } = await setup();
    const created = await budgetRequest(agent.secret, {
      goalId: goal.id,
      amountUsd: 5,
      reason: "more",
    });
    const approvalId = created.body.approval!.id;
    const outcomes = await Promise.allSettled([
      decideApproval(db, operator.actor, { approvalId, decision: "approve" }),
      decideApproval(db, admin.actor, { approvalId, decision: "approve" }),
      decideApproval(db, operator.actor, { approvalId, decision: "deny" }),
    ]);
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    for (const outcome of outcomes) {
      if (outcome.status === "rejected") {
        expect((outcome.reason as DomainError).status).toBe(409);
      }
    }
    const won = outcomes.find((o) => o.status === "fulfilled");
    const raised = (won as PromiseFulfilledResult<{ status: string }>).value
      .status;
    expect(
      (await getGoal(db, operator.actor, { goalId: goal.id })).budgetUsd,
    ).toBe(raised === "approved" ? 15 : 10);
  });

  it("lets neither viewers, agents nor other projects' people decide, and refuses bad decisions", async () => {
    const { db, agent, goal, viewer, operator } = await setup();
    const created = await budgetRequest(agent.secret, {
      goalId: goal.id,
      amountUsd: 5,
      reason: "more",
    });
    const approvalId = created.body.approval!.id;
    expect(
      (
        await refusal(
          decideApproval(db, viewer.actor, { approvalId, decision: "approve" }),
        )
      ).status,
    ).toBe(403);
    expect(
      (
        await refusal(
          decideApproval(db, agent.actor, { approvalId, decision: "approve" }),
        )
      ).status,
    ).toBeGreaterThanOrEqual(403);
    // An operator of the instance who is only a viewer of this project.
    const demoted = await makeUser(db, "operator");
    await db.insert(projectMembers).values({
      projectId: goal.projectId,
      userId: demoted.user.id,
      role: "viewer",
      createdAt: now(),
    });
    expect(
      (
        await refusal(
          decideApproval(db, demoted.actor, {
            approvalId,
            decision: "approve",
          }),
        )
      ).status,
    ).toBe(403);
    const bad = [
      { approvalId, decision: "yes" },
      { approvalId, decision: "approve", comment: "x".repeat(10_000) },
      { approvalId: "nope", decision: "approve" },
      { approvalId, decision: "approve", extra: true },
      { approvalId, decision: ["approve"] },
    ];
    for (const input of bad) {
      expect(
        (
          await refusal(
            decideApproval(
              db,
              operator.actor,
              input as Parameters<typeof decideApproval>[2],
            ),
          )
        ).status,
      ).toBe(400);
    }
    expect(
      (await getGoal(db, operator.actor, { goalId: goal.id })).budgetUsd,
    ).toBe(10);
  });

  it("denies deciding a tool approval after it expired, and the agent hears expired", async () => {
    const { db, project, agent, admin, operator } = await setup();
    await addRule(db, admin.actor, {
      project: project.slug,
      scope: "project",
      kind: "command",
      tool: "Bash",
      pattern: "DROP",
      decision: "ask",
      reason: "schema changes are reviewed",
    });
    setAskWaitSeconds(0);
    const first = await preToolUse(agent.secret, "psql -c 'DROP TABLE t'");
    expect(first).toMatchObject({ status: 200, decision: "deny" });
    const approvalId = first.approvalId!;
    const start = now();
    setClock(() => new Date(start.getTime() + 11 * 60 * 1000));
    const late = await refusal(
      decideApproval(db, operator.actor, { approvalId, decision: "approve" }),
    );
    expect(late.status).toBe(409);
    expect(late.message).toContain("expired");
    expect(
      (await readApproval(agent.secret, approvalId)).body.approval,
    ).toMatchObject({ status: "expired" });
    // Asking again opens a fresh approval rather than reusing the dead one.
    const again = await preToolUse(agent.secret, "psql -c 'DROP TABLE t'");
    expect(again.approvalId).not.toBe(approvalId);
  });

  it("opens one approval for concurrent identical ask calls", async () => {
    const { db, project, agent, admin } = await setup();
    await addRule(db, admin.actor, {
      project: project.slug,
      scope: "project",
      kind: "command",
      tool: "Bash",
      pattern: "DROP",
      decision: "ask",
      reason: "schema changes are reviewed",
    });
    setAskWaitSeconds(0);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        preToolUse(agent.secret, "psql -c 'DROP TABLE x'"),
      ),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(answers.every((a) => a.decision === "deny")).toBe(true);
    expect(new Set(answers.map((a) => a.approvalId)).size).toBe(1);
  });

  it("caps what one agent may have waiting, and then denies its asked calls", async () => {
    const { db, project, agent, admin, goal } = await setup();
    await addRule(db, admin.actor, {
      project: project.slug,
      scope: "project",
      kind: "command",
      tool: "Bash",
      pattern: "DROP",
      decision: "ask",
      reason: "schema changes are reviewed",
    });
    setAskWaitSeconds(0);
    for (let i = 1; i <= MAX_PENDING_PER_AGENT; i++) {
      const made = await budgetRequest(agent.secret, {
        goalId: goal.id,
        amountUsd: i,
        reason: `step ${i}`,
      });
      expect(made.status).toBe(201);
    }
    // One more is refused with the reason, not queued.
    const over = await budgetRequest(agent.secret, {
      goalId: goal.id,
      amountUsd: 99,
      reason: "one more",
    });
    expect(over.status).toBe(429);
    expect(over.body.error?.message).toContain("requests waiting");
    // A tool call the rule asks about is denied (a failed hook would let
    // the tool run), and no approval is opened for it.
    const asked = await preToolUse(agent.secret, "psql -c 'DROP TABLE y'");
    expect(asked).toMatchObject({ status: 200, decision: "deny" });
    expect(asked.approvalId).toBeNull();
    // Asking again for one already waiting still answers with it.
    const same = await budgetRequest(agent.secret, {
      goalId: goal.id,
      amountUsd: 1,
      reason: "step 1",
    });
    expect(same.status).toBe(200);
  });

  async function askEveryBash(
    db: DatabaseHandle["db"],
    slug: string,
    actor: Parameters<typeof addRule>[1],
  ) {
    await addRule(db, actor, {
      project: slug,
      scope: "project",
      kind: "tool",
      tool: "Bash",
      decision: "ask",
      reason: "shell commands are reviewed",
    });
    setAskWaitSeconds(0);
  }

  it("masks secrets in an asked call's title, its notification and the audit of its decision", async () => {
    const { db, project, agent, admin, operator } = await setup();
    await askEveryBash(db, project.slug, admin.actor);
    const key = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789";
    const asked = await preToolUse(
      agent.secret,
      `curl -H 'Authorization: Bearer ${key}' https://api.example.test`,
    );
    expect(asked.decision).toBe("deny");
    const [item] = await listApprovals(db, operator.actor, {
      project: project.slug,
      status: "pending",
    });
    expect(item.title).toContain("curl -H 'Authorization: Bearer sk-ant-");
    expect(item.title).not.toContain(key);
    const sent = await db
      .select({ title: notifications.title })
      .from(notifications)
      .where(eq(notifications.projectId, project.id));
    expect(sent.map((n) => n.title).join("\n")).toContain("curl");
    expect(sent.map((n) => n.title).join("\n")).not.toContain(key);
    await decideApproval(db, operator.actor, {
      approvalId: item.id,
      decision: "deny",
    });
    const audited = await db
      .select({ details: auditLog.details })
      .from(auditLog)
      .where(eq(auditLog.targetId, item.id));
    expect(JSON.stringify(audited)).toContain("curl -H");
    expect(JSON.stringify(audited)).not.toContain(key);
  });

  it("does not let a decision on a call pass the same input in another working directory", async () => {
    const { db, project, agent, admin, operator } = await setup();
    await askEveryBash(db, project.slug, admin.actor);
    const first = await preToolUse(agent.secret, "rm -rf ./*", "/repo/build");
    await decideApproval(db, operator.actor, {
      approvalId: first.approvalId!,
      decision: "approve",
    });
    // The approved call itself passes again (Claude Code's retry) ...
    expect(
      await preToolUse(agent.secret, "rm -rf ./*", "/repo/build"),
    ).toMatchObject({ decision: "allow", approvalId: first.approvalId });
    // ... but not in the repository's root, which no one approved.
    const elsewhere = await preToolUse(agent.secret, "rm -rf ./*", "/repo");
    expect(elsewhere.decision).toBe("deny");
    expect(elsewhere.approvalId).not.toBe(first.approvalId);
    const [fresh] = await listApprovals(db, operator.actor, {
      project: project.slug,
      status: "pending",
    });
    expect(fresh).toMatchObject({
      id: elsewhere.approvalId,
      payload: { cwd: "/repo" },
    });
  });

  it("keeps a goal's budget within the largest goal budget when increases are approved", async () => {
    const { db, project, agent, operator } = await setup();
    const goal = await createGoal(db, operator.actor, {
      project: project.slug,
      title: "Big spender",
      budgetUsd: 999_999_990,
    });
    const tooMuch = await budgetRequest(agent.secret, {
      goalId: goal.id,
      amountUsd: 11,
      reason: "more",
    });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body.error?.details?.map((d) => d.path)).toEqual([
      "amountUsd",
    ]);
    // Two requests that fit alone but not together: the second approval
    // is refused and stays pending for someone to deny.
    const a = await budgetRequest(agent.secret, {
      goalId: goal.id,
      amountUsd: 8,
      reason: "a",
    });
    const b = await budgetRequest(agent.secret, {
      goalId: goal.id,
      amountUsd: 9,
      reason: "b",
    });
    await decideApproval(db, operator.actor, {
      approvalId: a.body.approval!.id,
      decision: "approve",
    });
    const refused = await refusal(
      decideApproval(db, operator.actor, {
        approvalId: b.body.approval!.id,
        decision: "approve",
      }),
    );
    expect(refused.status).toBe(409);
    expect(refused.message).toContain("$1,000,000,000");
    expect(
      (await getGoal(db, operator.actor, { goalId: goal.id })).budgetUsd,
    ).toBe(999_999_998);
    expect(
      (await readApproval(agent.secret, b.body.approval!.id)).body.approval
        ?.status,
    ).toBe("pending");
  });
});
