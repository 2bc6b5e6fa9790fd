// The orchestration domain: goals, tasks, claims and leases.
export { createGoal, getGoal, listGoals, updateGoal } from "./goals";
export {
  cancelTask,
  createTask,
  getTask,
  getTaskDetail,
  listTasks,
  releaseTaskAsOperator,
  setTaskDependencies,
  type TaskDetail,
  type TaskTransitionView,
} from "./tasks";
export {
  startLeaseSweeper,
  sweepExpiredLeases,
  type SweepResult,
} from "./sweeper";
export {
  DEFAULT_MAX_ATTEMPTS,
  maxAttemptsFor,
  setMaxAttempts,
} from "./settings";
export {
  assertTransition,
  taskTransitionTable,
  type TransitionActorType,
} from "./states";
export {
  claimNextTask,
  completeTask,
  failTask,
  heartbeat,
  releaseTask,
  taskHeldBy,
  type ClaimedTask,
  type Lease,
} from "./leases";
export {
  diffTasks,
  getPlan,
  listPlans,
  reviewPlan,
  submitPlan,
  type PlanChange,
  type PlanDetail,
  type PlanDiff,
  type PlanSummary,
  type PlanTaskView,
} from "./plans";
export { dependencyOrder, planIssues } from "./plan-graph";
export type { GoalView, TaskView } from "./views";
export * from "./schemas";
