import { z } from "zod";
import {
  pauseProject,
  pauseProjectInput,
  projectPauseState,
  resumeProject,
} from "@/server/guardrails/kill-switch";
import {
  addBudget,
  addBudgetInput,
  listBudgets,
  removeBudget,
  removeBudgetInput,
  updateBudget,
  updateBudgetInput,
} from "@/server/guardrails/budgets";
import {
  agentMaxActiveInput,
  setAgentMaxActiveTasks,
} from "@/server/guardrails/concurrency";
import {
  getProjectLimits,
  updateProjectLimits,
  updateProjectLimitsInput,
} from "@/server/guardrails/project-limits";
import {
  addRule,
  addRuleInput,
  listRules,
  removeRule,
  removeRuleInput,
} from "@/server/guardrails/rules";
import { authedProcedure, router } from "../trpc";

// Guardrails for the console: budgets, concurrency limits and the project's
// time zone, tool, command and path rules and the project kill switch. Each domain function checks the role it needs itself.

const inProject = z.object({ project: z.string().min(1) });

export const guardrailsRouter = router({
  budgets: router({
    list: authedProcedure
      .input(inProject)
      .query(({ ctx, input }) => listBudgets(ctx.db, ctx.actor, input)),
    add: authedProcedure
      .input(addBudgetInput)
      .mutation(({ ctx, input }) => addBudget(ctx.db, ctx.actor, input)),
    update: authedProcedure
      .input(updateBudgetInput)
      .mutation(({ ctx, input }) => updateBudget(ctx.db, ctx.actor, input)),
    remove: authedProcedure
      .input(removeBudgetInput)
      .mutation(({ ctx, input }) => removeBudget(ctx.db, ctx.actor, input)),
  }),
  limits: router({
    get: authedProcedure
      .input(inProject)
      .query(({ ctx, input }) => getProjectLimits(ctx.db, ctx.actor, input)),
    update: authedProcedure
      .input(updateProjectLimitsInput)
      .mutation(({ ctx, input }) =>
        updateProjectLimits(ctx.db, ctx.actor, input),
      ),
    setAgent: authedProcedure
      .input(agentMaxActiveInput)
      .mutation(({ ctx, input }) =>
        setAgentMaxActiveTasks(ctx.db, ctx.actor, input),
      ),
  }),
  rules: router({
    list: authedProcedure
      .input(inProject)
      .query(({ ctx, input }) => listRules(ctx.db, ctx.actor, input)),
    add: authedProcedure
      .input(addRuleInput)
      .mutation(({ ctx, input }) => addRule(ctx.db, ctx.actor, input)),
    remove: authedProcedure
      .input(removeRuleInput)
      .mutation(({ ctx, input }) => removeRule(ctx.db, ctx.actor, input)),
  }),
  pause: router({
    state: authedProcedure
      .input(inProject)
      .query(({ ctx, input }) => projectPauseState(ctx.db, ctx.actor, input)),
    pause: authedProcedure
      .input(pauseProjectInput)
      .mutation(({ ctx, input }) => pauseProject(ctx.db, ctx.actor, input)),
    resume: authedProcedure
      .input(inProject)
      .mutation(({ ctx, input }) => resumeProject(ctx.db, ctx.actor, input)),
  }),
});
