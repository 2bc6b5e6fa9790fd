import { z } from "zod";
import {
  pauseProject,
  pauseProjectInput,
  projectPauseState,
  resumeProject,
} from "@/server/guardrails/kill-switch";
import {
  addRule,
  addRuleInput,
  listRules,
  removeRule,
  removeRuleInput,
} from "@/server/guardrails/rules";
import { authedProcedure, router } from "../trpc";

// Guardrails for the console: tool, command and path rules and the project
// kill switch. Each domain function checks the role it needs itself.

const inProject = z.object({ project: z.string().min(1) });

export const guardrailsRouter = router({
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
