import fs from "node:fs";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as postHook } from "@/app/api/agent/v1/hooks/claude-code/route";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { auditLog, events } from "@/db/schema";
import { createCaller } from "@/server/api/root";
import { pauseAgent, resumeAgent } from "@/server/identity/agents";
import {
  claimNextTask,
  createGoal,
  createTask,
  releaseTask,
} from "@/server/orchestration";
import { openTestDatabase, testKinds } from "@/tests/db";
import { rejection } from "@/tests/failures";
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import { pauseProject, projectPauseState, resumeProject } from "./kill-switch";
import { setAskWaitSeconds } from "./ask";
import { addRule, listRules, removeRule } from "./rules";

// Guardrails as an agent and an operator meet them: Claude Code's real
// PreToolUse bodies answered by the policy, the project kill switch on
// claims and tool use, and who may change what.

interface HookLine {
  hook_event_name: string;
  tool_name?: string;
  tool_use_id?: string;
  [field: string]: unknown;
}

const hookLines = fs
  .readFileSync(
    path.resolve(
      process.cwd(),
      "..",
      "shared",
      "cases",
      "hooks",
      "session-basic.jsonl",
    ),
    "utf8",
  )
  .split("\n")
  .filter((line) => line.trim() !== "")
  .map((line) => JSON.parse(line) as HookLine);

function preToolUse(tool: string): HookLine {
  const found = hookLines.find(
    (line) => line.hook_event_name === "PreToolUse" && line.tool_name === tool,
  );
  if (!found) throw new Error(`no PreToolUse for ${tool} in the case`);

  return found;
}

let sequence = 0;

/** Posts a hook body as Claude Code does; a fresh tool_use_id per call so
 * every call is stored as its own event. */
async function hook(secret: string, body: HookLine, sessionId?: string) {
  sequence += 1;
  const response = await postHook(
    new Request("http://localhost/api/agent/v1/hooks/claude-code", {
      method: "POST",
      headers: {
        authorization: `Bearer ${secret}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({
        ...body,
        session_id: sessionId ?? body.session_id,
        tool_use_id: `${String(body.tool_use_id)}-${sequence}`,
      }),
    }),
    { params: Promise.resolve({}) },
  );
  expect(response.status).toBe(200);

  return (await response.json()) as {
    hookSpecificOutput?: {
      hookEventName: string;
      permissionDecision: string;
      permissionDecisionReason?: string;
    };
  };
}

describe.each(testKinds)("guardrails on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    // An "ask" is answered at once here: denied while it waits for a
    // person (approvals.int.test.ts covers the wait).
    setAskWaitSeconds(0);
  });
  afterAll(async () => {
    setAskWaitSeconds(null);
    useDatabase(null);
    await handle.close();
  });

  async function setup() {
    const db = handle.db;
    const project = await makeProject(db);
    const agent = await makeAgent(db, project.id, "builder");
    const admin = await makeUser(db, "admin");
    const operator = await makeUser(db, "operator");
    const viewer = await makeUser(db, "viewer");

    return { db, project, agent, admin, operator, viewer };
  }

  it("answers the case's PreToolUse bodies with allow, ask and deny", async () => {
    const { db, project, agent, admin } = await setup();
    const slug = project.slug;
    await addRule(db, admin.actor, {
      project: slug,
      scope: "project",
      kind: "command",
      tool: "Bash",
      pattern: "npm test",
      decision: "deny",
      reason: "tests run in CI only",
    });
    await addRule(db, admin.actor, {
      project: slug,
      scope: "project",
      kind: "path",
      tool: "*",
      pattern: "docs/**",
      decision: "ask",
    });
    await addRule(db, admin.actor, {
      project: slug,
      scope: "agent",
      agent: "builder",
      kind: "path",
      tool: "Edit",
      pattern: "src/routes/**",
      decision: "ask",
      reason: "routes are reviewed",
    });

    const read = await hook(agent.secret, preToolUse("Read"));
    expect(read).toEqual({
      hookSpecificOutput: {
        hookEventName: "PreToolUse",
        permissionDecision: "allow",
      },
    });
    const bash = await hook(agent.secret, preToolUse("Bash"));
    expect(bash.hookSpecificOutput).toEqual({
      hookEventName: "PreToolUse",
      permissionDecision: "deny",
      permissionDecisionReason:
        'Blocked by the project guardrail on Bash commands matching "npm test": tests run in CI only',
    });
    const write = await hook(agent.secret, preToolUse("Write"));
    expect(write.hookSpecificOutput?.permissionDecision).toBe("deny");
    expect(write.hookSpecificOutput?.permissionDecisionReason).toContain(
      'paths matching "docs/**"',
    );
    expect(write.hookSpecificOutput?.permissionDecisionReason).toContain(
      "waits for a person's approval",
    );
    const editRoute = await hook(agent.secret, preToolUse("Edit"));
    expect(editRoute.hookSpecificOutput?.permissionDecision).toBe("deny");
    expect(editRoute.hookSpecificOutput?.permissionDecisionReason).toContain(
      "agent guardrail",
    );

    // Another agent is not bound by builder's rule.
    const other = await makeAgent(db, project.id, "reviewer");
    const editByOther = await hook(other.secret, preToolUse("Edit"));
    expect(editByOther.hookSpecificOutput?.permissionDecision).toBe("allow");

    // The hook events carry the decision; refusals are marked denied.
    const stored = await db
      .select({
        tool: events.toolName,
        status: events.status,
        attributes: events.attributes,
      })
      .from(events)
      .where(
        and(
          eq(events.projectId, project.id),
          eq(events.agentId, agent.agent.id),
        ),
      );
    const byTool = new Map(stored.map((row) => [row.tool, row]));
    expect(byTool.get("Bash")?.status).toBe("denied");
    expect(byTool.get("Bash")?.attributes?.guardrail_decision).toMatchObject({
      decision: "deny",
      scope: "project",
    });
    expect(byTool.get("Write")?.attributes?.guardrail_decision).toMatchObject({
      decision: "deny",
      approvalId: expect.any(String),
    });
    expect(byTool.get("Read")?.status).toBe("ok");
    expect(byTool.get("Read")?.attributes?.guardrail_decision).toBeUndefined();

    // Removing the rule lets the next call through.
    const rules = await listRules(db, admin.actor, { project: slug });
    const npmRule = rules.find((rule) => rule.pattern === "npm test");
    expect(npmRule?.description).toBe('Bash commands matching "npm test"');
    await removeRule(db, admin.actor, {
      project: slug,
      rule: npmRule?.id ?? "",
    });
    const again = await hook(agent.secret, preToolUse("Bash"));
    expect(again.hookSpecificOutput?.permissionDecision).toBe("allow");
  });

  it("applies a goal's rule while the agent holds one of its tasks", async () => {
    const { db, project, agent, admin } = await setup();
    const goal = await createGoal(db, admin.actor, {
      project: project.slug,
      title: "Docs",
    });
    await createTask(db, agent.actor, { goalId: goal.id, title: "write docs" });
    await addRule(db, admin.actor, {
      project: project.slug,
      scope: "project",
      kind: "path",
      tool: "*",
      pattern: "docs/**",
      decision: "ask",
    });
    await addRule(db, admin.actor, {
      project: project.slug,
      scope: "goal",
      goal: goal.id,
      kind: "path",
      tool: "Write",
      pattern: "docs/**",
      decision: "allow",
      reason: "this goal writes the docs",
    });
    const write = preToolUse("Write");
    expect(
      (await hook(agent.secret, write)).hookSpecificOutput?.permissionDecision,
    ).toBe("deny");
    const claim = await claimNextTask(db, agent.actor, {});
    expect(claim).not.toBeNull();
    expect(
      (await hook(agent.secret, write)).hookSpecificOutput?.permissionDecision,
    ).toBe("allow");
    await releaseTask(db, agent.actor, {
      taskId: claim?.task.id ?? "",
      leaseId: claim?.lease.id,
    });
    expect(
      (await hook(agent.secret, write)).hookSpecificOutput?.permissionDecision,
    ).toBe("deny");
  });

  it("the kill switch refuses claims and tool use until resumed", async () => {
    const { db, project, agent, admin, operator } = await setup();
    const slug = project.slug;
    const goal = await createGoal(db, admin.actor, {
      project: slug,
      title: "G",
    });
    await createTask(db, agent.actor, { goalId: goal.id, title: "t" });

    await pauseProject(db, operator.actor, {
      project: slug,
      reason: "runaway spend",
    });
    expect(
      await projectPauseState(db, operator.actor, { project: slug }),
    ).toMatchObject({ paused: true, reason: "runaway spend" });
    const claim = await rejection(claimNextTask(db, agent.actor, {}));
    expect(claim.status).toBe(403);
    expect(claim.message).toContain("runaway spend");
    const read = await hook(agent.secret, preToolUse("Read"));
    expect(read.hookSpecificOutput).toEqual({
      hookEventName: "PreToolUse",
      permissionDecision: "deny",
      permissionDecisionReason:
        "The project is paused by an operator: runaway spend",
    });

    await resumeProject(db, operator.actor, { project: slug });
    expect(await claimNextTask(db, agent.actor, {})).not.toBeNull();
    const after = await hook(agent.secret, preToolUse("Read"));
    expect(after.hookSpecificOutput?.permissionDecision).toBe("allow");

    const actions = await db
      .select({ action: auditLog.action, details: auditLog.details })
      .from(auditLog)
      .where(eq(auditLog.projectId, project.id));
    expect(actions.map((row) => row.action)).toEqual(
      expect.arrayContaining(["project.pause", "project.resume"]),
    );
  });

  it("a paused agent is still denied, whatever the rules allow", async () => {
    const { db, project, agent, admin } = await setup();
    await addRule(db, admin.actor, {
      project: project.slug,
      scope: "agent",
      agent: "builder",
      kind: "tool",
      tool: "*",
      decision: "allow",
    });
    await pauseAgent(db, admin.actor, {
      project: project.slug,
      agent: "builder",
      reason: "looping",
    });
    const read = await hook(agent.secret, preToolUse("Read"));
    expect(read.hookSpecificOutput?.permissionDecision).toBe("deny");
    expect(read.hookSpecificOutput?.permissionDecisionReason).toBe(
      "Agent builder is paused by an operator: looping",
    );
    await resumeAgent(db, admin.actor, {
      project: project.slug,
      agent: "builder",
    });
    const after = await hook(agent.secret, preToolUse("Read"));
    expect(after.hookSpecificOutput?.permissionDecision).toBe("allow");
  });

  it("admins edit rules, operators pause, viewers only read", async () => {
    const { db, project, admin, operator, viewer } = await setup();
    const slug = project.slug;
    const rule = {
      project: slug,
      scope: "project" as const,
      kind: "path" as const,
      tool: "*",
      pattern: ".github/**",
      decision: "ask" as const,
    };
    const asViewer = createCaller({ db, actor: viewer.actor });
    const asOperator = createCaller({ db, actor: operator.actor });
    const asAdmin = createCaller({ db, actor: admin.actor });

    await expect(asViewer.guardrails.rules.add(rule)).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    await expect(asOperator.guardrails.rules.add(rule)).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    const added = await asAdmin.guardrails.rules.add(rule);
    expect(
      await asViewer.guardrails.rules.list({ project: slug }),
    ).toHaveLength(1);
    await expect(
      asViewer.guardrails.rules.remove({ project: slug, rule: added.id }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(
      asViewer.guardrails.pause.pause({ project: slug, reason: "no" }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    await asOperator.guardrails.pause.pause({ project: slug, reason: "drill" });
    expect(
      await asViewer.guardrails.pause.state({ project: slug }),
    ).toMatchObject({ paused: true, reason: "drill" });
    await asOperator.guardrails.pause.resume({ project: slug });
    await asAdmin.guardrails.rules.remove({ project: slug, rule: added.id });
    expect(
      await asViewer.guardrails.rules.list({ project: slug }),
    ).toHaveLength(0);

    const audited = await db
      .select({ action: auditLog.action })
      .from(auditLog)
      .where(eq(auditLog.projectId, project.id));
    expect(audited.map((row) => row.action).sort()).toEqual([
      "guardrail.rule.add",
      "guardrail.rule.remove",
      "project.pause",
      "project.resume",
    ]);
  });

  it("names the field that is wrong", async () => {
    const { db, project, admin } = await setup();
    const missingPattern = await rejection(
      addRule(db, admin.actor, {
        project: project.slug,
        scope: "goal",
        kind: "command",
        tool: "Bash",
        decision: "deny",
      }),
    );
    expect(missingPattern.status).toBe(400);
    expect(missingPattern.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: "pattern" }),
        expect.objectContaining({ path: "goal" }),
      ]),
    );
    const badDecision = await rejection(
      addRule(db, admin.actor, {
        project: project.slug,
        scope: "project",
        kind: "tool",
        tool: "Bash",
        decision: "maybe" as "ask",
      }),
    );
    expect(badDecision.details).toEqual([
      expect.objectContaining({ path: "decision" }),
    ]);
    const unknownAgent = await rejection(
      addRule(db, admin.actor, {
        project: project.slug,
        scope: "agent",
        agent: "ghost",
        kind: "tool",
        tool: "Bash",
        decision: "deny",
      }),
    );
    expect(unknownAgent.status).toBe(404);
    const noReason = await rejection(
      pauseProject(db, admin.actor, { project: project.slug, reason: " " }),
    );
    expect(noReason.details).toEqual([
      expect.objectContaining({ path: "reason" }),
    ]);
  });
});
