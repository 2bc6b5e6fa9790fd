import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GET as exportRoute } from "@/app/(console)/projects/[slug]/audit/export/route";
import { POST as postHook } from "@/app/api/agent/v1/hooks/claude-code/route";
import { POST as postClaim } from "@/app/api/agent/v1/tasks/claim/route";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { auditLog } from "@/db/schema";
import { pauseProject, resumeProject } from "@/server/guardrails/kill-switch";
import { addRule } from "@/server/guardrails/rules";
import { createGoal, createTask } from "@/server/orchestration";
import { setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { pinClock } from "@/tests/failures";
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import type { Actor } from "./actor";
import {
  auditFiltersFromQuery,
  auditPage,
  csvField,
  listAudit,
  recordAudit,
} from "./audit";
import { pauseAgent } from "./agents";

const cli: Actor = { kind: "cli", label: "cli:test" };

function exportRequest(slug: string, query: string, secret?: string) {
  return exportRoute(
    new Request(`http://localhost/projects/${slug}/audit/export?${query}`, {
      headers: secret ? { authorization: `Bearer ${secret}` } : {},
    }),
    { params: Promise.resolve({ slug }) },
  );
}

function agentPost(
  handler: typeof postClaim,
  path: string,
  secret: string,
  body: unknown,
) {
  return handler(
    new Request(`http://localhost${path}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${secret}`,
        "content-type": "application/json",
      },
      body: JSON.stringify(body),
    }),
    { params: Promise.resolve({}) },
  );
}

describe.each(testKinds)("the audit log on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
  });
  afterAll(async () => handle.close());
  afterEach(() => setClock(null));

  /** A project with six entries over three days, oldest first. */
  async function history() {
    const { db } = handle;
    const project = await makeProject(db);
    const person = await makeUser(db, "operator");
    const agent = await makeAgent(db, project.id, "builder");
    const clock = pinClock(new Date("2030-03-01T10:00:00Z"));
    const entry = async (actor: Actor, action: string, targetType: string) => {
      await recordAudit(db, actor, {
        projectId: project.id,
        action,
        targetType,
        targetId: "t1",
        details: { note: `${action} by ${actor.kind}` },
      });
      clock.advance(12 * 60 * 60);
    };
    await entry(person.actor, "goal.create", "goal");
    await entry(person.actor, "goal.update", "goal");
    await entry(cli, "goal_x.odd", "goal");
    await entry(agent.actor, "guardrail.refused", "agent");
    await entry(person.actor, "agent.pause", "agent");
    await entry(cli, "token.revoke", "token");

    return { db, project, person, agent };
  }

  it("filters by actor, action prefix, target type and time", async () => {
    const { db, project, person } = await history();
    const actions = async (filters: object) =>
      (await listAudit(db, cli, { project: project.slug, ...filters })).map(
        (row) => row.action,
      );

    expect(await actions({})).toEqual([
      "token.revoke",
      "agent.pause",
      "guardrail.refused",
      "goal_x.odd",
      "goal.update",
      "goal.create",
    ]);
    expect(await actions({ actor: person.user.email.slice(0, 6) })).toEqual([
      "agent.pause",
      "goal.update",
      "goal.create",
    ]);
    expect(await actions({ actor: "BUILDER" })).toEqual(["guardrail.refused"]);
    expect(await actions({ actorType: "cli" })).toEqual([
      "token.revoke",
      "goal_x.odd",
    ]);
    // "goal." is a prefix, and _ in it is a character, not a wildcard.
    expect(await actions({ action: "goal." })).toEqual([
      "goal.update",
      "goal.create",
    ]);
    expect(await actions({ action: "goal_" })).toEqual(["goal_x.odd"]);
    expect(await actions({ targetType: "agent" })).toEqual([
      "agent.pause",
      "guardrail.refused",
    ]);
    // Entries land at 10:00 and 22:00 from March 1; "to" a date is the
    // whole of that day.
    expect(
      await actions(
        auditFiltersFromQuery({ from: "2030-03-02", to: "2030-03-02" }),
      ),
    ).toEqual(["guardrail.refused", "goal_x.odd"]);
  });

  it("pages back through history", async () => {
    const { db, project } = await history();
    const first = await auditPage(db, cli, { project: project.slug, limit: 4 });
    expect(first.rows).toHaveLength(4);
    expect(first.nextBefore).toBe(first.rows[3].id);
    const second = await auditPage(db, cli, {
      project: project.slug,
      limit: 4,
      before: first.nextBefore ?? undefined,
    });
    expect(second.rows.map((row) => row.action)).toEqual([
      "goal.update",
      "goal.create",
    ]);
    expect(second.nextBefore).toBeNull();
  });

  it("exports the filtered log as CSV and JSON to viewers", async () => {
    const { db, project } = await history();
    const viewer = await makeUser(db, "viewer");

    const csv = await exportRequest(
      project.slug,
      "format=csv&action=goal.",
      viewer.secret,
    );
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    expect(csv.headers.get("content-disposition")).toContain(
      `audit-${project.slug}-`,
    );
    const lines = (await csv.text()).trimEnd().split("\r\n");
    expect(lines[0]).toBe(
      "id,created_at,actor_type,actor_id,actor_label,action,target_type," +
        "target_id,details",
    );
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(",goal.update,goal,t1,");
    expect(lines[1]).toContain('"{""note"":""goal.update by user""}"');

    const json = await exportRequest(
      project.slug,
      "format=json&type=cli",
      viewer.secret,
    );
    const rows = (await json.json()) as { action: string }[];
    expect(rows.map((row) => row.action)).toEqual([
      "token.revoke",
      "goal_x.odd",
    ]);

    expect((await exportRequest(project.slug, "format=csv")).status).toBe(401);
    const bad = await exportRequest(project.slug, "format=xml", viewer.secret);
    expect(bad.status).toBe(400);
  });

  it("defuses spreadsheet formulas and quotes CSV fields", () => {
    expect(csvField("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    expect(csvField("-2+3")).toBe("'-2+3");
    expect(csvField('say "hi", then go')).toBe('"say ""hi"", then go"');
    expect(csvField(null)).toBe("");
  });

  it("records each guardrail refusal of an agent once", async () => {
    const { db } = handle;
    const project = await makeProject(db);
    const admin = await makeUser(db, "admin");
    const agent = await makeAgent(db, project.id, "runner");
    const goal = await createGoal(db, cli, {
      project: project.slug,
      title: "G",
    });
    await createTask(db, cli, { goalId: goal.id, title: "T" });
    const refusals = () =>
      db
        .select()
        .from(auditLog)
        .where(
          and(
            eq(auditLog.projectId, project.id),
            eq(auditLog.action, "guardrail.refused"),
          ),
        )
        .orderBy(auditLog.id);

    // The kill switch refuses a claim.
    await pauseProject(db, admin.actor, {
      project: project.slug,
      reason: "runaway spend",
    });
    const claim = await agentPost(
      postClaim,
      "/api/agent/v1/tasks/claim",
      agent.secret,
      {},
    );
    expect(claim.status).toBe(403);
    expect(await refusals()).toMatchObject([
      {
        actorType: "agent",
        actorId: agent.agent.id,
        actorLabel: expect.stringContaining("runner"),
        targetType: "agent",
        targetId: agent.agent.id,
        details: {
          rule: "project.paused",
          scope: "project",
          reason: "The project is paused by an operator: runaway spend",
          call: "POST /api/agent/v1/tasks/claim",
        },
      },
    ]);
    await resumeProject(db, admin.actor, { project: project.slug });

    // A tool rule denies a tool call.
    await addRule(db, admin.actor, {
      project: project.slug,
      scope: "project",
      kind: "command",
      tool: "Bash",
      pattern: "git push --force",
      decision: "deny",
      reason: "never rewrite shared history",
    });
    const hook = await agentPost(
      postHook,
      "/api/agent/v1/hooks/claude-code",
      agent.secret,
      {
        session_id: "s-1",
        hook_event_name: "PreToolUse",
        tool_name: "Bash",
        tool_use_id: "tu-1",
        tool_input: { command: "git push --force origin main" },
      },
    );
    expect(await hook.json()).toMatchObject({
      hookSpecificOutput: { permissionDecision: "deny" },
    });
    const afterHook = await refusals();
    expect(afterHook).toHaveLength(2);
    expect(afterHook[1].details).toMatchObject({
      rule: expect.stringMatching(/^guardrail:/),
      scope: "project",
      reason: expect.stringContaining("never rewrite shared history"),
      tool: "Bash",
    });

    // A paused agent is refused. A 403 that is not a guardrail's (a
    // personal token on the agent API) records nothing.
    await pauseAgent(db, admin.actor, {
      project: project.slug,
      agent: "runner",
      reason: "checking its work",
    });
    const paused = await agentPost(
      postClaim,
      "/api/agent/v1/tasks/claim",
      agent.secret,
      {},
    );
    expect(paused.status).toBe(403);
    const all = await refusals();
    expect(all).toHaveLength(3);
    expect(all[2].details).toMatchObject({
      rule: "agent.paused",
      scope: "agent",
    });
    const personToken = await agentPost(
      postClaim,
      "/api/agent/v1/tasks/claim",
      admin.secret,
      {},
    );
    expect(personToken.status).toBe(403);
    expect(await refusals()).toHaveLength(3);

    // Refusals show on the audit log under their own action.
    const listed = await listAudit(db, cli, {
      project: project.slug,
      action: "guardrail.refused",
    });
    expect(listed).toHaveLength(3);
  });
});
