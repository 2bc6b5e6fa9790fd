import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { openDatabase } from "@/db/client";
import { acquireDataDirLock } from "@/db/lock";
import { agents, auditLog } from "@/db/schema";
import {
  authenticateAgent,
  authenticatePerson,
} from "@/server/identity/tokens";
import { flotilla, json } from "./test-fixtures";

// The `flotilla` command run as a user runs it: a separate process on an
// embedded database in a temporary directory.

describe("flotilla CLI", () => {
  let tmp: string;
  let dataDir: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-cli-"));
    dataDir = path.join(tmp, "data");
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("explains each command with --help", async () => {
    const run = await flotilla(dataDir, ["agent", "create", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("--project <slug>");
    expect(run.stdout).toContain("--json");
  });

  it("creates a user, project, agent and tokens; pauses and resumes", async () => {
    const { user } = json<{ user: { email: string; role: string } }>(
      await flotilla(dataDir, [
        "user",
        "create",
        "--email",
        "Lead@Example.test",
        "--password",
        "password1",
        "--role",
        "viewer",
        "--json",
      ]),
    );
    expect(user).toMatchObject({ email: "lead@example.test", role: "viewer" });

    const { project } = json<{ project: { slug: string; name: string } }>(
      await flotilla(dataDir, [
        "project",
        "create",
        "web",
        "--name",
        "Web app",
        "--json",
      ]),
    );
    expect(project).toEqual(expect.objectContaining({ name: "Web app" }));

    const made = json<{ agent: { name: string }; secret: string }>(
      await flotilla(dataDir, [
        "agent",
        "create",
        "builder",
        "--project",
        "web",
        "--json",
      ]),
    );
    expect(made.agent.name).toBe("builder");
    expect(made.secret).toMatch(/^flt_/);

    const paused = json<{ agent: { status: string; pausedReason: string } }>(
      await flotilla(dataDir, [
        "agent",
        "pause",
        "builder",
        "--project",
        "web",
        "--reason",
        "over budget",
        "--json",
      ]),
    );
    expect(paused.agent).toMatchObject({
      status: "paused",
      pausedReason: "over budget",
    });
    const resumed = await flotilla(dataDir, [
      "agent",
      "resume",
      "builder",
      "--project",
      "web",
    ]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toBe("Resumed agent builder\n");

    const personal = json<{ email: string; secret: string }>(
      await flotilla(dataDir, [
        "token",
        "create",
        "--email",
        "lead@example.test",
        "--expires-days",
        "30",
        "--json",
      ]),
    );
    expect(personal.email).toBe("lead@example.test");

    const duplicate = await flotilla(dataDir, [
      "project",
      "create",
      "web",
      "--json",
    ]);
    expect(duplicate.code).toBe(2);
    expect(JSON.parse(duplicate.stderr)).toMatchObject({
      error: { code: "conflict", details: [{ path: "slug" }] },
    });

    // What the commands did is really in the database the console uses.
    const handle = await openDatabase({ dataDir });
    try {
      const agent = await authenticateAgent(handle.db, `Bearer ${made.secret}`);
      expect(agent.agentName).toBe("builder");
      const person = await authenticatePerson(
        handle.db,
        `Bearer ${personal.secret}`,
      );
      expect(person).toMatchObject({ instanceRole: "viewer" });
      const [row] = await handle.db
        .select()
        .from(agents)
        .where(eq(agents.name, "builder"));
      expect(row.status).toBe("active");
      const actions = await handle.db
        .select({ action: auditLog.action, actor: auditLog.actorType })
        .from(auditLog)
        .orderBy(auditLog.id);
      expect(actions.map((a) => a.action)).toEqual([
        "user.create",
        "project.create",
        "agent.create",
        "agent.pause",
        "agent.resume",
        "personal-token.create",
      ]);
      expect(new Set(actions.map((a) => a.actor))).toEqual(new Set(["cli"]));
    } finally {
      await handle.close();
    }
  }, 120_000);

  it("says who holds the embedded database instead of hanging", async () => {
    // This test process plays the running console.
    const release = acquireDataDirLock(dataDir, "the Flotilla console");
    try {
      const started = Date.now();
      const run = await flotilla(
        dataDir,
        ["project", "create", "blocked"],
        30_000,
      );
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(
        new RegExp(`in use by the Flotilla console \\(pid ${process.pid}`),
      );
      expect(run.stderr).toContain("DATABASE_URL");
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      release();
    }
  }, 60_000);
});
