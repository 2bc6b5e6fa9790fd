import { authedProcedure, router } from "../trpc";
import {
  cancelTask,
  createGoal,
  createGoalInput,
  createTask,
  createTaskInput,
  getGoal,
  getTask,
  goalIdInput,
  listGoals,
  listGoalsInput,
  listTasks,
  listTasksInput,
  operatorTaskInput,
  releaseTaskAsOperator,
  taskIdInput,
  updateGoal,
  updateGoalInput,
} from "@/server/orchestration";

// Goals and tasks for the console. Each procedure calls one domain
// function, which checks the caller's role in the goal's or task's project.

const goals = router({
  list: authedProcedure
    .input(listGoalsInput)
    .query(({ ctx, input }) => listGoals(ctx.db, ctx.actor, input)),
  get: authedProcedure
    .input(goalIdInput)
    .query(({ ctx, input }) => getGoal(ctx.db, ctx.actor, input)),
  create: authedProcedure
    .input(createGoalInput)
    .mutation(({ ctx, input }) => createGoal(ctx.db, ctx.actor, input)),
  update: authedProcedure
    .input(updateGoalInput)
    .mutation(({ ctx, input }) => updateGoal(ctx.db, ctx.actor, input)),
});

const tasks = router({
  list: authedProcedure
    .input(listTasksInput)
    .query(({ ctx, input }) => listTasks(ctx.db, ctx.actor, input)),
  get: authedProcedure
    .input(taskIdInput)
    .query(({ ctx, input }) => getTask(ctx.db, ctx.actor, input)),
  create: authedProcedure
    .input(createTaskInput)
    .mutation(({ ctx, input }) => createTask(ctx.db, ctx.actor, input)),
  release: authedProcedure
    .input(operatorTaskInput)
    .mutation(({ ctx, input }) =>
      releaseTaskAsOperator(ctx.db, ctx.actor, input),
    ),
  cancel: authedProcedure
    .input(operatorTaskInput)
    .mutation(({ ctx, input }) => cancelTask(ctx.db, ctx.actor, input)),
});

export const orchestrationRouter = router({ goals, tasks });
