import { planOverlaps } from "@/server/orchestration/plan-overlaps";
import { reviewTask } from "@/server/orchestration/review";
import { reviewTaskInput } from "@/server/orchestration/schemas";
import {
  reassignTask,
  reassignTaskInput,
} from "@/server/orchestration/reassign";
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
  setGoalCriterion,
  setGoalCriterionInput,
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
import { explainTaskClaim } from "@/server/orchestration/claim-explanation";
import { goalGraph } from "@/server/orchestration/goal-graph";
import {
  getOrchestrationSettings,
  projectSettingsInput,
  updateOrchestrationSettings,
  updateOrchestrationSettingsInput,
} from "@/server/orchestration/project-settings";
import { taskActivity } from "@/server/observability/task-activity";
import {
  countOpenEscalations,
  escalationCountInput,
  listEscalations,
  listEscalationsInput,
  resolveEscalation,
  resolveEscalationInput,
} from "@/server/orchestration/escalations";
import {
  cancelDirective,
  directiveIdInput,
  listDirectives,
  listDirectivesInput,
  sendDirective,
  sendDirectiveInput,
} from "@/server/orchestration/directives";

// Goals and tasks for the console. Each procedure calls one domain
// function, which checks the caller's role in the goal's or task's project.

const goals = router({
  list: authedProcedure
    .input(listGoalsInput)
    .query(({ ctx, input }) => listGoals(ctx.db, ctx.actor, input)),
  get: authedProcedure
    .input(goalIdInput)
    .query(({ ctx, input }) => getGoal(ctx.db, ctx.actor, input)),
  /** The goal's tasks as a layered dependency graph. */
  graph: authedProcedure
    .input(goalIdInput)
    .query(({ ctx, input }) => goalGraph(ctx.db, ctx.actor, input)),
  create: authedProcedure
    .input(createGoalInput)
    .mutation(({ ctx, input }) => createGoal(ctx.db, ctx.actor, input)),
  update: authedProcedure
    .input(updateGoalInput)
    .mutation(({ ctx, input }) => updateGoal(ctx.db, ctx.actor, input)),
  /** Ticks or clears one line of the goal's success criteria. */
  setCriterion: authedProcedure
    .input(setGoalCriterionInput)
    .mutation(({ ctx, input }) => setGoalCriterion(ctx.db, ctx.actor, input)),
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
  /** Why a waiting task is not being claimed, by the claim rules. */
  whyNotClaimed: authedProcedure
    .input(taskIdInput)
    .query(({ ctx, input }) => explainTaskClaim(ctx.db, ctx.actor, input)),
  /** Spend attributed to the task so far and the sessions that did it. */
  activity: authedProcedure
    .input(taskIdInput)
    .query(({ ctx, input }) => taskActivity(ctx.db, ctx.actor, input)),
  setDependencies: authedProcedure
    .input(setDependenciesInput)
    .mutation(({ ctx, input }) =>
      setTaskDependencies(ctx.db, ctx.actor, input),
    ),
  create: authedProcedure
    .input(createTaskInput)
    .mutation(({ ctx, input }) => createTask(ctx.db, ctx.actor, input)),
  /** Accept a task handed in for review (done) or send it back. */
  review: authedProcedure
    .input(reviewTaskInput)
    .mutation(({ ctx, input }) => reviewTask(ctx.db, ctx.actor, input)),
  release: authedProcedure
    .input(operatorTaskInput)
    .mutation(({ ctx, input }) =>
      releaseTaskAsOperator(ctx.db, ctx.actor, input),
    ),
  cancel: authedProcedure
    .input(operatorTaskInput)
    .mutation(({ ctx, input }) => cancelTask(ctx.db, ctx.actor, input)),
  /** Hand the task to a named agent under a new lease. */
  reassign: authedProcedure
    .input(reassignTaskInput)
    .mutation(({ ctx, input }) => reassignTask(ctx.db, ctx.actor, input)),
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
  /** In-flight tasks and reservations whose scopes a plan's tasks overlap. */
  overlaps: authedProcedure
    .input(planIdInput)
    .query(({ ctx, input }) => planOverlaps(ctx.db, ctx.actor, input)),
  submit: authedProcedure
    .input(submitPlanInput)
    .mutation(({ ctx, input }) => submitPlan(ctx.db, ctx.actor, input)),
  /** Approve, reject or request changes, with a comment. */
  review: authedProcedure
    .input(reviewPlanInput)
    .mutation(({ ctx, input }) => reviewPlan(ctx.db, ctx.actor, input)),
});

/** Maximum attempts and lease lengths: read by anyone in the project,
 * changed by its admins. */
const settings = router({
  get: authedProcedure
    .input(projectSettingsInput)
    .query(({ ctx, input }) =>
      getOrchestrationSettings(ctx.db, ctx.actor, input),
    ),
  update: authedProcedure
    .input(updateOrchestrationSettingsInput)
    .mutation(({ ctx, input }) =>
      updateOrchestrationSettings(ctx.db, ctx.actor, input),
    ),
});

/** The escalations inbox: read by anyone in the project, resolved by its
 * operators. */
const escalations = router({
  list: authedProcedure
    .input(listEscalationsInput)
    .query(({ ctx, input }) => listEscalations(ctx.db, ctx.actor, input)),
  /** Open escalations, for the navigation badge. */
  count: authedProcedure
    .input(escalationCountInput)
    .query(({ ctx, input }) => countOpenEscalations(ctx.db, ctx.actor, input)),
  resolve: authedProcedure
    .input(resolveEscalationInput)
    .mutation(({ ctx, input }) => resolveEscalation(ctx.db, ctx.actor, input)),
});

/** Operators' instructions to agents, with each one's delivery state. */
const directives = router({
  list: authedProcedure
    .input(listDirectivesInput)
    .query(({ ctx, input }) => listDirectives(ctx.db, ctx.actor, input)),
  send: authedProcedure
    .input(sendDirectiveInput)
    .mutation(({ ctx, input }) => sendDirective(ctx.db, ctx.actor, input)),
  cancel: authedProcedure
    .input(directiveIdInput)
    .mutation(({ ctx, input }) => cancelDirective(ctx.db, ctx.actor, input)),
});

export const orchestrationRouter = router({
  goals,
  tasks,
  plans,
  settings,
  escalations,
  directives,
});
