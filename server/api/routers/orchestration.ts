import { authedProcedure, router } from "../trpc";
import {
  cancelTask,
  createGoal,
  createGoalInput,
  createTask,
  createTaskInput,
  getGoal,
  getTask,
  getTaskDetail,
  getPlan,
  goalIdInput,
  listPlans,
  planIdInput,
  reviewPlan,
  reviewPlanInput,
  submitPlan,
  submitPlanInput,
  listGoals,
  listGoalsInput,
  listTasks,
  listTasksInput,
  operatorTaskInput,
  releaseTaskAsOperator,
  setDependenciesInput,
  setTaskDependencies,
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
  /** The task page: the task, its dependencies and its history. */
  detail: authedProcedure
    .input(taskIdInput)
    .query(({ ctx, input }) => getTaskDetail(ctx.db, ctx.actor, input)),
  setDependencies: authedProcedure
    .input(setDependenciesInput)
    .mutation(({ ctx, input }) =>
      setTaskDependencies(ctx.db, ctx.actor, input),
    ),
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

const plans = router({
  /** A goal's plans, newest version first. */
  list: authedProcedure
    .input(goalIdInput)
    .query(({ ctx, input }) => listPlans(ctx.db, ctx.actor, input)),
  /** The review page: tasks, estimate total and the diff to the last
   * version. */
  get: authedProcedure
    .input(planIdInput)
    .query(({ ctx, input }) => getPlan(ctx.db, ctx.actor, input)),
  submit: authedProcedure
    .input(submitPlanInput)
    .mutation(({ ctx, input }) => submitPlan(ctx.db, ctx.actor, input)),
  /** Approve, reject or request changes, with a comment. */
  review: authedProcedure
    .input(reviewPlanInput)
    .mutation(({ ctx, input }) => reviewPlan(ctx.db, ctx.actor, input)),
});

export const orchestrationRouter = router({ goals, tasks, plans });
