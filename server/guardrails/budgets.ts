import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { inTransaction, type Database } from "@/db/client";
import { budgetAlerts, budgets, goals } from "@/db/schema";
import { invalidInput, notFound } from "@/server/errors";
import { requireProjectRole } from "@/server/identity/access";
import type { Actor, Role } from "@/server/identity/actor";
import { findAgent } from "@/server/identity/agents";
import { recordAudit } from "@/server/identity/audit";
import { parseInput } from "@/server/input";
import { newId, now } from "@/server/runtime";
import {
  budgetName,
  budgetScopes,
  budgetUnits,
  loadBudgetRules,
  measureBudgets,
  type BudgetStatus,
} from "./budget-spend";
import { budgetPeriods, projectTimeZone } from "./periods";

// Period budgets on the guardrails page: anyone in the project sees each
// budget's spend, limit and when it resets; admins add, change and remove
// them, and every change is audited. Enforcement is in budget-spend.ts.

const projectInput = z.object({ project: z.string().min(1) });

const MAX_USD = 1_000_000_000;
const MAX_TOKENS = 1_000_000_000_000;

const limit = z
  .number({ error: "Limit must be a number" })
  .positive("Limit must be more than 0");
const softPercent = z
  .number({ error: "Alert threshold must be a whole percentage" })
  .int("Alert threshold must be a whole percentage")
  .min(1, "Alert threshold must be between 1 and 99 percent")
  .max(99, "Alert threshold must be between 1 and 99 percent");

/** Why a limit does not suit its unit (dollars to 4 places, whole
 * tokens), or null. */
function limitProblem(
  unit: (typeof budgetUnits)[number],
  value: number,
): string | null {
  if (unit === "tokens") {
    if (!Number.isInteger(value)) return "A token limit is a whole number";
    if (value > MAX_TOKENS) return "Limit must be at most 1e12 tokens";

    return null;
  }
  if (value > MAX_USD) return "Limit must be at most $1,000,000,000";
  if (Math.abs(value * 10_000 - Math.round(value * 10_000)) > 1e-6) {
    return "Use at most 4 decimal places";
  }

  return null;
}

export const addBudgetInput = z
  .object({
    project: z.string().min(1),
    scope: z.enum(budgetScopes, {
      error: "Scope must be project, goal or agent",
    }),
    goal: z.string().trim().optional(),
    agent: z.string().trim().optional(),
    unit: z.enum(budgetUnits, { error: "Unit must be usd or tokens" }),
    period: z.enum(budgetPeriods, {
      error: "Period must be day, week, month or total",
    }),
    limit,
    softPercent: softPercent.nullable().optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.scope === "goal" && !value.goal) {
      ctx.addIssue({
        code: "custom",
        path: ["goal"],
        message: "A goal budget needs the goal it applies to",
      });
    }
    if (value.scope === "agent" && !value.agent) {
      ctx.addIssue({
        code: "custom",
        path: ["agent"],
        message: "An agent budget needs the agent it applies to",
      });
    }
    const problem = limitProblem(value.unit, value.limit);
    if (problem) {
      ctx.addIssue({ code: "custom", path: ["limit"], message: problem });
    }
  });

export const updateBudgetInput = z
  .object({
    project: z.string().min(1),
    budget: z.uuid("Budget must be a budget id"),
    period: z
      .enum(budgetPeriods, {
        error: "Period must be day, week, month or total",
      })
      .optional(),
    limit: limit.optional(),
    /** null removes the alert threshold. */
    softPercent: softPercent.nullable().optional(),
  })
  .strict();

export const removeBudgetInput = z
  .object({
    project: z.string().min(1),
    budget: z.uuid("Budget must be a budget id"),
  })
  .strict();

export interface BudgetView extends BudgetStatus {
  name: string;
}

export interface BudgetList {
  timeZone: string;
  /** Whether the caller may add, change and remove budgets. */
  canEdit: boolean;
  budgets: BudgetView[];
}

/** Every budget of the project (the goals' own limits included) with its
 * spend in the current period, state and when it resets. */
export async function listBudgets(
  db: Database,
  actor: Actor,
  input: z.input<typeof projectInput>,
): Promise<BudgetList> {
  const values = parseInput(projectInput, input);
  const { project, role } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );
  const rules = await loadBudgetRules(db, project.id);
  const statuses = await measureBudgets(db, project.id, rules, now());

  return {
    timeZone: await projectTimeZone(db, project.id),
    canEdit: role === ("admin" satisfies Role),
    budgets: statuses.map((status) => ({
      ...status,
      name: budgetName(status),
    })),
  };
}

/** Adds a budget; admins only, audited. */
export async function addBudget(
  db: Database,
  actor: Actor,
  input: z.input<typeof addBudgetInput>,
) {
  const values = parseInput(addBudgetInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "admin",
  );
  let goalId: string | null = null;
  let agentId: string | null = null;
  if (values.scope === "goal" && values.goal) {
    goalId = await goalOfProject(db, project.id, values.goal);
  }
  if (values.scope === "agent" && values.agent) {
    agentId = (await findAgent(db, project, values.agent)).id;
  }
  const at = now();

  return inTransaction(db, async (tx) => {
    const [budget] = await tx
      .insert(budgets)
      .values({
        id: newId(),
        projectId: project.id,
        scope: values.scope,
        goalId,
        agentId,
        unit: values.unit,
        period: values.period,
        limitAmount: values.limit.toFixed(4),
        softPercent: values.softPercent ?? null,
        createdBy: actor.kind === "user" ? actor.email : actor.kind,
        createdAt: at,
        updatedAt: at,
      })
      .returning();
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "guardrail.budget.add",
      targetType: "budget",
      targetId: budget.id,
      details: {
        scope: budget.scope,
        goalId,
        agentId,
        unit: budget.unit,
        period: budget.period,
        limit: values.limit,
        softPercent: budget.softPercent,
      },
    });

    return budget;
  });
}

/** Changes a budget's period, limit or alert threshold; admins only,
 * audited with the values before and after. Alerts already raised in the
 * current period are cleared, so the new limit alerts afresh. */
export async function updateBudget(
  db: Database,
  actor: Actor,
  input: z.input<typeof updateBudgetInput>,
) {
  const values = parseInput(updateBudgetInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "admin",
  );

  return inTransaction(db, async (tx) => {
    const [before] = await tx
      .select()
      .from(budgets)
      .where(
        and(eq(budgets.id, values.budget), eq(budgets.projectId, project.id)),
      )
      .for("update");
    if (!before) throw notFound("Budget", values.budget);
    const nextLimit = values.limit ?? Number(before.limitAmount);
    const problem = limitProblem(before.unit as "usd" | "tokens", nextLimit);
    if (problem) {
      throw invalidInput(`Invalid input: limit: ${problem}`, [
        { path: "limit", message: problem },
      ]);
    }
    const [after] = await tx
      .update(budgets)
      .set({
        period: values.period ?? before.period,
        limitAmount: nextLimit.toFixed(4),
        softPercent:
          values.softPercent === undefined
            ? before.softPercent
            : values.softPercent,
        updatedAt: now(),
      })
      .where(eq(budgets.id, before.id))
      .returning();
    await tx.delete(budgetAlerts).where(eq(budgetAlerts.budgetId, before.id));
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "guardrail.budget.update",
      targetType: "budget",
      targetId: before.id,
      details: { before: changeable(before), after: changeable(after) },
    });

    return after;
  });
}

/** Removes a budget; admins only, audited. */
export async function removeBudget(
  db: Database,
  actor: Actor,
  input: z.input<typeof removeBudgetInput>,
) {
  const values = parseInput(removeBudgetInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "admin",
  );

  return inTransaction(db, async (tx) => {
    const [removed] = await tx
      .delete(budgets)
      .where(
        and(eq(budgets.id, values.budget), eq(budgets.projectId, project.id)),
      )
      .returning();
    if (!removed) throw notFound("Budget", values.budget);
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "guardrail.budget.remove",
      targetType: "budget",
      targetId: removed.id,
      details: {
        scope: removed.scope,
        goalId: removed.goalId,
        agentId: removed.agentId,
        unit: removed.unit,
        period: removed.period,
        limit: Number(removed.limitAmount),
      },
    });

    return removed;
  });
}

/** What updateBudget may change, as its audit entry records it. */
function changeable(budget: typeof budgets.$inferSelect) {
  return {
    period: budget.period,
    limit: Number(budget.limitAmount),
    softPercent: budget.softPercent,
  };
}

async function goalOfProject(db: Database, projectId: string, goal: string) {
  const [row] = z.uuid().safeParse(goal).success
    ? await db
        .select({ id: goals.id })
        .from(goals)
        .where(and(eq(goals.id, goal), eq(goals.projectId, projectId)))
        .limit(1)
    : [];
  if (!row) throw notFound("Goal", goal);

  return row.id;
}
