import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import { inTransaction, type Database } from "@/db/client";
import { agents, goals, guardrailRules } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { findAgent } from "@/server/identity/agents";
import { recordAudit } from "@/server/identity/audit";
import { notFound } from "@/server/errors";
import { parseInput } from "@/server/input";
import { newId, now } from "@/server/runtime";
import { decisions, describeRule, ruleKinds, ruleScopes } from "./policy";

// Tool, command and path rules: viewers read them, admins add and remove
// them, every change is audited.

const projectInput = z.object({ project: z.string().min(1) });

export const addRuleInput = z
  .object({
    project: z.string().min(1),
    scope: z.enum(ruleScopes, {
      error: "Scope must be project, goal or agent",
    }),
    goal: z.string().trim().optional(),
    agent: z.string().trim().optional(),
    kind: z.enum(ruleKinds, { error: "Kind must be tool, command or path" }),
    tool: z
      .string()
      .trim()
      .min(1, "Tool is required (a name or a glob such as mcp__* or *)")
      .max(200, "Tool must be at most 200 characters")
      .regex(/^[\w*.:-]+$/, "Tool may hold letters, digits, _ - . : and *"),
    pattern: z
      .string()
      .trim()
      .max(500, "Pattern must be at most 500 characters")
      .optional(),
    decision: z.enum(decisions, {
      error: "Decision must be allow, deny or ask",
    }),
    reason: z
      .string()
      .trim()
      .max(500, "Reason must be at most 500 characters")
      .optional(),
  })
  .superRefine((value, ctx) => {
    if (value.scope === "goal" && !value.goal) {
      ctx.addIssue({
        code: "custom",
        path: ["goal"],
        message: "A goal rule needs the goal it applies to",
      });
    }
    if (value.scope === "agent" && !value.agent) {
      ctx.addIssue({
        code: "custom",
        path: ["agent"],
        message: "An agent rule needs the agent it applies to",
      });
    }
    if (value.kind !== "tool" && !value.pattern) {
      ctx.addIssue({
        code: "custom",
        path: ["pattern"],
        message:
          value.kind === "path"
            ? "A path rule needs a glob, e.g. migrations/**"
            : "A command rule needs a pattern, e.g. git push --force",
      });
    }
  });

export const removeRuleInput = z.object({
  project: z.string().min(1),
  rule: z.uuid("Rule must be a rule id"),
});

/** The project's rules, oldest first, with the goal or agent they name. */
export async function listRules(
  db: Database,
  actor: Actor,
  input: z.input<typeof projectInput>,
) {
  const values = parseInput(projectInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );
  const rows = await db
    .select({
      rule: guardrailRules,
      goalTitle: goals.title,
      agentName: agents.name,
    })
    .from(guardrailRules)
    .leftJoin(goals, eq(goals.id, guardrailRules.goalId))
    .leftJoin(agents, eq(agents.id, guardrailRules.agentId))
    .where(eq(guardrailRules.projectId, project.id))
    .orderBy(asc(guardrailRules.createdAt), asc(guardrailRules.id));

  return rows.map((row) => ({
    ...row.rule,
    goalTitle: row.goalTitle,
    agentName: row.agentName,
    description: describeRule(row.rule),
  }));
}

export async function addRule(
  db: Database,
  actor: Actor,
  input: z.input<typeof addRuleInput>,
) {
  const values = parseInput(addRuleInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "admin",
  );
  let goalId: string | null = null;
  let agentId: string | null = null;
  if (values.scope === "goal" && values.goal) {
    const goal = z.uuid().safeParse(values.goal).success
      ? (
          await db
            .select({ id: goals.id })
            .from(goals)
            .where(
              and(eq(goals.id, values.goal), eq(goals.projectId, project.id)),
            )
            .limit(1)
        )[0]
      : undefined;
    if (!goal) throw notFound(`Goal ${values.goal} in project ${project.slug}`);
    goalId = goal.id;
  }
  if (values.scope === "agent" && values.agent) {
    agentId = (await findAgent(db, project, values.agent)).id;
  }

  return inTransaction(db, async (tx) => {
    const [rule] = await tx
      .insert(guardrailRules)
      .values({
        id: newId(),
        projectId: project.id,
        scope: values.scope,
        goalId,
        agentId,
        kind: values.kind,
        tool: values.tool,
        pattern: values.kind === "tool" ? null : (values.pattern ?? null),
        decision: values.decision,
        reason: values.reason ?? "",
        createdBy: actor.kind === "user" ? actor.email : actor.kind,
        createdAt: now(),
      })
      .returning();
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "guardrail.rule.add",
      targetType: "guardrail_rule",
      targetId: rule.id,
      details: {
        scope: rule.scope,
        goalId,
        agentId,
        kind: rule.kind,
        tool: rule.tool,
        pattern: rule.pattern,
        decision: rule.decision,
        reason: rule.reason,
      },
    });

    return rule;
  });
}

export async function removeRule(
  db: Database,
  actor: Actor,
  input: z.input<typeof removeRuleInput>,
) {
  const values = parseInput(removeRuleInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "admin",
  );

  return inTransaction(db, async (tx) => {
    const [removed] = await tx
      .delete(guardrailRules)
      .where(
        and(
          eq(guardrailRules.id, values.rule),
          eq(guardrailRules.projectId, project.id),
        ),
      )
      .returning();
    if (!removed) throw notFound("Guardrail rule", values.rule);
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "guardrail.rule.remove",
      targetType: "guardrail_rule",
      targetId: removed.id,
      details: {
        scope: removed.scope,
        kind: removed.kind,
        tool: removed.tool,
        pattern: removed.pattern,
        decision: removed.decision,
      },
    });

    return removed;
  });
}
