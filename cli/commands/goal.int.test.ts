import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flotilla } from "../test-fixtures";

// `flotilla goal` run as a user runs it, on an embedded database in a
// temporary directory.

describe("flotilla goal", () => {
  let tmp: string;
  let dataDir: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-goal-"));
    dataDir = path.join(tmp, "data");
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("creates goals with a budget and lists them", async () => {
    const project = await flotilla(dataDir, ["project", "create", "fleet"]);
    expect(project.code).toBe(0);

    const created = await flotilla(dataDir, [
      "goal",
      "create",
      "--project",
      "fleet",
      "--title",
      "Ship v1",
      "--description",
      "First release",
      "--budget-usd",
      "2.5",
      "--json",
    ]);
    expect(created.code).toBe(0);
    const { goal } = JSON.parse(created.stdout) as {
      goal: { title: string; budgetUsd: number; overBudget: boolean };
    };
    expect(goal).toMatchObject({
      title: "Ship v1",
      budgetUsd: 2.5,
      overBudget: false,
    });

    const refused = await flotilla(dataDir, [
      "goal",
      "create",
      "--project",
      "fleet",
      "--title",
      "Bad",
      "--budget-usd",
      "-1",
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("budgetUsd: Must be 0 or more");

    const listed = await flotilla(dataDir, [
      "goal",
      "list",
      "--project",
      "fleet",
    ]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      /active {2}Ship v1 {2}\(no tasks; spent \$0\.00, budget \$2\.50\)/,
    );
    expect(listed.stdout).not.toContain("Bad");
  }, 90_000);

  it("takes criteria, owner, priority, due date, token budget and draft", async () => {
    const user = await flotilla(dataDir, [
      "user",
      "create",
      "--email",
      "ann@example.test",
      "--password",
      "a-long-password",
    ]);
    expect(user.code).toBe(0);

    const created = await flotilla(dataDir, [
      "goal",
      "create",
      "--project",
      "fleet",
      "--title",
      "Search v2",
      "--criteria",
      "p95 under 200 ms",
      "--criteria",
      "Docs updated",
      "--owner",
      "ann@example.test",
      "--priority",
      "5",
      "--due",
      "2030-06-30",
      "--budget-tokens",
      "2000000",
      "--draft",
    ]);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain("Created draft goal 'Search v2'");

    const listed = await flotilla(dataDir, [
      "goal",
      "list",
      "--project",
      "fleet",
    ]);
    expect(listed.stdout).toContain(
      "priority 5; owner ann@example.test; due 2030-06-30; criteria 0/2 met; " +
        "tokens 0 of 2,000,000",
    );
    const json = await flotilla(dataDir, [
      "goal",
      "list",
      "--project",
      "fleet",
      "--json",
    ]);
    const { goals } = JSON.parse(json.stdout) as {
      goals: { title: string; status: string; successCriteria: unknown }[];
    };
    expect(goals.find((g) => g.title === "Search v2")).toMatchObject({
      status: "draft",
      successCriteria: [
        { text: "p95 under 200 ms", done: false },
        { text: "Docs updated", done: false },
      ],
    });

    const refused = await flotilla(dataDir, [
      "goal",
      "create",
      "--project",
      "fleet",
      "--title",
      "Bad",
      "--owner",
      "nobody@example.test",
      "--json",
    ]);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stderr)).toMatchObject({
      error: { details: [{ path: "owner" }] },
    });
    const help = await flotilla(dataDir, ["goal", "create", "--help"]);
    expect(help.stdout).toContain("--criteria <text>");
  }, 90_000);
});
