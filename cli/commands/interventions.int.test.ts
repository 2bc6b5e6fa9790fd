import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "@/db/client";
import { auditLog } from "@/db/schema";
import { DomainError } from "@/server/errors";
import { authenticateAgent } from "@/server/identity/tokens";
import { claimNextTask, createTask } from "@/server/orchestration";
import { cli } from "@/server/identity/test-fixtures";
import { flotilla, json } from "../test-fixtures";

// An operator stepping in from a terminal: the kill switch, pausing a goal,
// releasing and reassigning a task, directives and revoking a token, each
// run as a user runs `flotilla`, on an embedded database in a temporary
// directory, then checked in that database.

describe("flotilla interventions", () => {
  let tmp: string;
  let dataDir: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-interventions-"));
    dataDir = path.join(tmp, "data");
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** Works on the database directly between commands, as the console
   * would; the CLI needs it closed again to open it. */
  async function withDb<T>(
    work: (db: Awaited<ReturnType<typeof openDatabase>>["db"]) => Promise<T>,
  ) {
    const handle = await openDatabase({ dataDir });
    try {
      return await work(handle.db);
    } finally {
      await handle.close();
    }
  }

  it("explains each intervention with --help", async () => {
    const run = await flotilla(dataDir, ["task", "reassign", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("--to <agent>");
    expect(run.stdout).toContain("--json");
    const missing = await flotilla(dataDir, ["project", "pause", "web"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("required option '--reason <reason>'");
  }, 60_000);

  it("pauses, reassigns, releases, directs and revokes, all audited", async () => {
    expect((await flotilla(dataDir, ["project", "create", "ops"])).code).toBe(
      0,
    );
    const first = json<{ secret: string; token: { prefix: string } }>(
      await flotilla(dataDir, [
        "agent",
        "create",
        "first",
        "--project",
        "ops",
        "--json",
      ]),
    );
    expect(
      (
        await flotilla(dataDir, [
          "agent",
          "create",
          "second",
          "--project",
          "ops",
        ])
      ).code,
    ).toBe(0);
    const { goal } = json<{ goal: { id: string } }>(
      await flotilla(dataDir, [
        "goal",
        "create",
        "--project",
        "ops",
        "--title",
        "Ship",
        "--json",
      ]),
    );
    const taskId = await withDb(async (db) => {
      const task = await createTask(db, cli, {
        goalId: goal.id,
        title: "api",
        scope: ["src/api/**"],
      });
      const agent = await authenticateAgent(db, `Bearer ${first.secret}`);
      expect((await claimNextTask(db, agent, {}))?.task.id).toBe(task.id);

      return task.id;
    });

    // The kill switch, from the terminal.
    const paused = json<{ paused: boolean; reason: string }>(
      await flotilla(dataDir, [
        "project",
        "pause",
        "ops",
        "--reason",
        "incident 42",
        "--json",
      ]),
    );
    expect(paused).toMatchObject({ paused: true, reason: "incident 42" });
    const refused = await flotilla(dataDir, [
      "task",
      "reassign",
      taskId,
      "--to",
      "second",
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      "flotilla: The project is paused by an operator: incident 42\n",
    );
    const resumed = await flotilla(dataDir, ["project", "resume", "ops"]);
    expect(resumed.stdout).toBe("Project ops is active\n");

    const moved = json<{
      task: { status: string; holder: { name: string } };
    }>(
      await flotilla(dataDir, [
        "task",
        "reassign",
        taskId,
        "--to",
        "second",
        "--reason",
        "first is stuck",
        "--json",
      ]),
    );
    expect(moved.task).toMatchObject({
      status: "claimed",
      holder: { name: "second" },
    });
    const unknown = await flotilla(dataDir, [
      "task",
      "reassign",
      taskId,
      "--to",
      "nobody",
      "--json",
    ]);
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stderr)).toMatchObject({
      error: {
        code: "invalid_input",
        details: [{ path: "agent", message: "No such agent in this project" }],
      },
    });
    const released = await flotilla(dataDir, ["task", "release", taskId]);
    expect(released.stdout).toBe("Released task 'api'; it is ready\n");

    const goalPaused = json<{ goal: { status: string } }>(
      await flotilla(dataDir, ["goal", "pause", goal.id, "--json"]),
    );
    expect(goalPaused.goal.status).toBe("paused");
    const again = await flotilla(dataDir, ["goal", "pause", goal.id]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("only an active goal can be paused");
    expect((await flotilla(dataDir, ["goal", "resume", goal.id])).stdout).toBe(
      "Resumed goal 'Ship'\n",
    );

    const { directive } = json<{
      directive: { id: string; priority: string; expiresAt: string };
    }>(
      await flotilla(dataDir, [
        "directive",
        "send",
        "--project",
        "ops",
        "--agent",
        "first",
        "--priority",
        "high",
        "--expires",
        "2h",
        "Stop touching src/api",
        "--json",
      ]),
    );
    expect(directive.priority).toBe("high");
    const hoursLeft =
      (new Date(directive.expiresAt).getTime() - Date.now()) / 3_600_000;
    expect(hoursLeft).toBeGreaterThan(1.9);
    expect(hoursLeft).toBeLessThanOrEqual(2);
    const cancelled = json<{ directive: { state: string } }>(
      await flotilla(dataDir, ["directive", "cancel", directive.id, "--json"]),
    );
    expect(cancelled.directive.state).toBe("cancelled");

    // Revoked by the prefix the console shows; the agent is shut out.
    const revoked = await flotilla(dataDir, [
      "token",
      "revoke",
      first.token.prefix,
    ]);
    expect(revoked.stdout).toBe(
      `Revoked agent token ${first.token.prefix}… (first (first token))\n`,
    );
    const gone = await flotilla(dataDir, ["token", "revoke", "flt_nothing"]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toBe("flotilla: Token flt_nothing was not found\n");

    await withDb(async (db) => {
      const error = await authenticateAgent(db, `Bearer ${first.secret}`).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).status).toBe(403);
      const actions = await db
        .select({ action: auditLog.action, actor: auditLog.actorType })
        .from(auditLog)
        .orderBy(asc(auditLog.id));
      expect(actions.map((a) => a.action).slice(4)).toEqual([
        "task.create",
        "project.pause",
        "project.resume",
        "task.reassign",
        "task.release",
        "goal.update",
        "goal.update",
        "directive.send",
        "directive.cancel",
        "token.revoke",
      ]);
      expect(new Set(actions.map((a) => a.actor))).toEqual(new Set(["cli"]));
      const [reassigned] = await db
        .select({ details: auditLog.details })
        .from(auditLog)
        .where(eq(auditLog.action, "task.reassign"));
      expect(reassigned.details).toMatchObject({
        agent: "second",
        previousHolder: "first",
      });
    });
  }, 300_000);
});
