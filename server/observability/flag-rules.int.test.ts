import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import type { DatabaseHandle } from "@/db/client";
import { agentSessions, auditLog, eventFlags } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { DomainError } from "@/server/errors";
import { openTestDatabase, testKinds } from "@/tests/db";
import { addMember, makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import {
  createFlagRule,
  deleteFlagRule,
  listFlagRules,
  updateFlagRule,
} from "./flag-rules";
import { ingestEvents, type AgentActor } from "./ingest";

// A project's own red-flag rules: who may change them, what input they
// refuse, and what ingest does with them.

const awsKey = "AKIA" + "QWERTYUIOPASDFGH";

async function failure(work: Promise<unknown>) {
  try {
    await work;
  } catch (error) {
    if (error instanceof DomainError) {
      return {
        code: error.code,
        message: error.message,
        details: error.details,
      };
    }
    throw error;
  }
  throw new Error("expected the call to fail");
}

describe.each(testKinds)("custom flag rules on %s", (kind) => {
  let handle: DatabaseHandle;
  let slug: string;
  let projectId: string;
  let admin: Actor;
  let operator: Actor;
  let viewer: Actor;
  let agent: AgentActor;
  let sequence = 0;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    const project = await makeProject(handle.db);
    slug = project.slug;
    projectId = project.id;
    const people = {
      admin: await makeUser(handle.db, "viewer"),
      operator: await makeUser(handle.db, "viewer"),
      viewer: await makeUser(handle.db, "viewer"),
    };
    for (const role of ["admin", "operator", "viewer"] as const) {
      await addMember(handle.db, project.id, people[role].user.id, role);
    }
    admin = people.admin.actor;
    operator = people.operator.actor;
    viewer = people.viewer.actor;
    agent = (await makeAgent(handle.db, project.id)).actor;
  });
  afterAll(async () => handle.close());

  /** Ingests one event in a session of its own; returns its flags. */
  async function flagsOf(event: Record<string, unknown>) {
    sequence += 1;
    const sessionId = `s-${sequence}`;
    await ingestEvents(handle.db, agent, {
      events: [
        {
          id: `e-${sequence}`,
          sessionId,
          type: "tool_call",
          name: "Bash",
          toolName: "Bash",
          time: "2026-12-01T10:00:00.000Z",
          ...event,
        },
      ],
    });
    const [session] = await handle.db
      .select()
      .from(agentSessions)
      .where(
        and(
          eq(agentSessions.projectId, projectId),
          eq(agentSessions.externalId, sessionId),
        ),
      );
    const flags = await handle.db
      .select({
        rule: eventFlags.rule,
        severity: eventFlags.severity,
        excerpt: eventFlags.excerpt,
      })
      .from(eventFlags)
      .where(eq(eventFlags.sessionId, session.id));

    return { session, flags };
  }

  it("lets admins create, change and delete rules, and audits each", async () => {
    const rule = await createFlagRule(handle.db, admin, {
      project: slug,
      name: "staging-host",
      kind: "substring",
      pattern: "  staging.internal ",
      severity: "medium",
    });
    expect(rule).toMatchObject({
      name: "staging-host",
      ruleId: "custom.staging-host",
      pattern: "staging.internal",
      severity: "medium",
      enabled: true,
    });
    const changed = await updateFlagRule(handle.db, admin, {
      project: slug,
      rule: rule.id,
      enabled: false,
      severity: "high",
    });
    expect(changed).toMatchObject({ enabled: false, severity: "high" });
    expect(
      (await listFlagRules(handle.db, viewer, { project: slug })).find(
        (r) => r.id === rule.id,
      ),
    ).toMatchObject({ enabled: false, severity: "high" });
    await deleteFlagRule(handle.db, admin, { project: slug, rule: rule.id });
    expect(
      (await listFlagRules(handle.db, viewer, { project: slug })).map(
        (r) => r.id,
      ),
    ).not.toContain(rule.id);

    const audited = await handle.db
      .select({ action: auditLog.action, details: auditLog.details })
      .from(auditLog)
      .where(eq(auditLog.targetId, rule.id))
      .orderBy(auditLog.id);
    expect(audited.map((a) => a.action)).toEqual([
      "observability.flag_rule.create",
      "observability.flag_rule.update",
      "observability.flag_rule.delete",
    ]);
    expect(audited[1].details).toMatchObject({
      before: { enabled: true, severity: "medium" },
      after: { enabled: false, severity: "high" },
    });
  });

  it("refuses operators and viewers with 403, but lets them read", async () => {
    const rule = await createFlagRule(handle.db, admin, {
      project: slug,
      name: "guarded",
      kind: "substring",
      pattern: "x-guarded",
      severity: "low",
    });
    for (const actor of [operator, viewer]) {
      const refusals = [
        await failure(
          createFlagRule(handle.db, actor, {
            project: slug,
            name: "mine",
            kind: "substring",
            pattern: "x",
            severity: "low",
          }),
        ),
        await failure(
          updateFlagRule(handle.db, actor, {
            project: slug,
            rule: rule.id,
            enabled: false,
          }),
        ),
        await failure(
          deleteFlagRule(handle.db, actor, { project: slug, rule: rule.id }),
        ),
      ];
      expect(refusals.map((r) => r.code)).toEqual([
        "forbidden",
        "forbidden",
        "forbidden",
      ]);
      const listed = await listFlagRules(handle.db, actor, { project: slug });
      expect(listed.find((r) => r.id === rule.id)?.enabled).toBe(true);
    }
  });

  it("refuses a second rule with the same name with 409", async () => {
    const input = {
      project: slug,
      name: "twice",
      kind: "substring" as const,
      pattern: "one",
      severity: "low" as const,
    };
    await createFlagRule(handle.db, admin, input);
    const refused = await failure(
      createFlagRule(handle.db, admin, { ...input, pattern: "two" }),
    );
    expect(refused.code).toBe("conflict");
    expect(refused.details).toEqual([
      { path: "name", message: "A rule with this name exists" },
    ]);
  });

  it.each([
    [{ name: "" }, "name", "Name is required"],
    [{ name: "Has Spaces" }, "name", "Name may hold lowercase letters"],
    [{ name: "x".repeat(65) }, "name", "Name must be at most 64"],
    [{ pattern: "   " }, "pattern", "Pattern is required"],
    [{ pattern: "p".repeat(201) }, "pattern", "at most 200 characters"],
    [{ kind: "regex" }, "kind", "Kind must be substring or path_glob"],
    [{ severity: "urgent" }, "severity", "Severity must be low, medium"],
    [
      { kind: "path_glob", pattern: "src/*.{ts,js}" },
      "pattern",
      "[ ] { } and ! are not supported",
    ],
    [{ kind: "path_glob", pattern: "src/a**b" }, "pattern", "whole folder"],
    [{ kind: "path_glob", pattern: "src//x" }, "pattern", "empty folder"],
  ])("refuses %o with a message on %s", async (change, path, message) => {
    const refused = await failure(
      createFlagRule(handle.db, admin, {
        project: slug,
        name: "valid-name",
        kind: "substring",
        pattern: "valid",
        severity: "low",
        ...change,
      } as Parameters<typeof createFlagRule>[2]),
    );
    expect(refused.code).toBe("invalid_input");
    const issues = refused.details as { path: string; message: string }[];
    expect(issues.find((i) => i.path === path)?.message).toContain(message);
  });

  it("refuses an update that changes nothing, and an unknown rule", async () => {
    const rule = await createFlagRule(handle.db, admin, {
      project: slug,
      name: "unchanged",
      kind: "substring",
      pattern: "same",
      severity: "low",
    });
    expect(
      (
        await failure(
          updateFlagRule(handle.db, admin, { project: slug, rule: rule.id }),
        )
      ).code,
    ).toBe("invalid_input");
    expect(
      (
        await failure(
          updateFlagRule(handle.db, admin, {
            project: slug,
            rule: "00000000-0000-4000-8000-000000000000",
            enabled: true,
          }),
        )
      ).code,
    ).toBe("not_found");
  });

  describe("at ingest", () => {
    beforeAll(async () => {
      for (const rule of [
        {
          name: "prod-db",
          kind: "substring",
          pattern: "PROD-DB-01",
          severity: "critical",
        },
        {
          name: "payments",
          kind: "path_glob",
          pattern: "services/payments/**",
          severity: "high",
        },
        {
          name: "switched-off",
          kind: "substring",
          pattern: "forbidden-word",
          severity: "critical",
        },
      ] as const) {
        const created = await createFlagRule(handle.db, admin, {
          project: slug,
          ...rule,
        });
        if (rule.name === "switched-off") {
          await updateFlagRule(handle.db, admin, {
            project: slug,
            rule: created.id,
            enabled: false,
          });
        }
      }
    });

    it("flags a substring of the input at the rule's severity", async () => {
      const { flags, session } = await flagsOf({
        input: { command: "psql -h prod-db-01.corp -c 'select 1'" },
      });
      expect(flags).toEqual([
        {
          rule: "custom.prod-db",
          severity: "critical",
          excerpt: "psql -h prod-db-01.corp -c 'select 1'",
        },
      ]);
      expect(session).toMatchObject({ flagCount: 1, criticalFlagCount: 1 });
    });

    it("flags a substring of the output", async () => {
      const { flags } = await flagsOf({
        input: { command: "cat hosts" },
        output: { stdout: "10.0.0.4 Prod-DB-01" },
      });
      expect(flags.map((f) => f.rule)).toEqual(["custom.prod-db"]);
    });

    it("flags a write under a glob and not one outside it", async () => {
      const write = (file_path: string) => ({
        type: "file_change",
        name: "Write",
        toolName: "Write",
        input: { file_path, content: "x" },
      });
      const inside = await flagsOf(write("/repo/services/payments/api.ts"));
      expect(inside.flags).toEqual([
        {
          rule: "custom.payments",
          severity: "high",
          excerpt: "/repo/services/payments/api.ts",
        },
      ]);
      expect(inside.session.highFlagCount).toBe(1);
      expect(
        (await flagsOf(write("/repo/services/orders/api.ts"))).flags,
      ).toEqual([]);
    });

    it("raises nothing for text no rule names", async () => {
      expect((await flagsOf({ input: { command: "ls -la" } })).flags).toEqual(
        [],
      );
    });

    it("does nothing for a disabled rule", async () => {
      const { flags, session } = await flagsOf({
        input: { command: "echo forbidden-word" },
      });
      expect(flags).toEqual([]);
      expect(session.flagCount).toBe(0);
    });

    it("masks a secret in the stored excerpt", async () => {
      const { flags } = await flagsOf({
        input: { command: `AWS_ACCESS_KEY_ID=${awsKey} psql -h prod-db-01` },
      });
      const custom = flags.find((f) => f.rule === "custom.prod-db");
      expect(custom?.excerpt).toContain("AKIA****[masked]");
      expect(JSON.stringify(flags)).not.toContain(awsKey);
    });

    it("applies a rule switched on again to the next batch", async () => {
      const [rule] = (
        await listFlagRules(handle.db, admin, { project: slug })
      ).filter((r) => r.name === "switched-off");
      await updateFlagRule(handle.db, admin, {
        project: slug,
        rule: rule.id,
        enabled: true,
      });
      const { flags } = await flagsOf({
        input: { command: "echo forbidden-word" },
      });
      expect(flags.map((f) => f.rule)).toEqual(["custom.switched-off"]);
      await updateFlagRule(handle.db, admin, {
        project: slug,
        rule: rule.id,
        enabled: false,
      });
    });
  });
});
