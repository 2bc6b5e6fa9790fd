// The orchestration domain: goals, tasks, claims and leases.
export {
  createGoal,
  getGoal,
  listGoals,
  setGoalCriterion,
  updateGoal,
} from "./goals";
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
export { DEFAULT_MAX_ATTEMPTS, setMaxAttempts } from "./settings";
export {
  assertTransition,
  taskTransitionTable,
  type TransitionActorType,
} from "./states";
export {
  claimNextTask,
  claimTasks,
  requestReview,
  explainSkips,
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
export {
  checkPaths,
  checkPathsInput,
  checkPathsQuery,
  listMyReservations,
  listProjectReservations,
  listProjectReservationsInput,
  releaseReservation,
  releaseReservationInput,
  renewReservation,
  renewReservationInput,
  reserveInput,
  reservePaths,
  type Hold,
  type PathCheck,
  type ReservationView,
  type ReserveResult,
} from "./reservations";
export * from "./schemas";
export {
  blockTask,
  blockTaskInput,
  countOpenEscalations,
  escalationCountInput,
  listEscalations,
  listEscalationsInput,
  raiseEscalation,
  resolveEscalation,
  resolveEscalationInput,
  type BlockResult,
  type EscalationKind,
  type EscalationView,
} from "./escalations";
export {
  acknowledgeDirective,
  acknowledgeDirectiveInput,
  agentDirectives,
  cancelDirective,
  directiveIdInput,
  directivePriorities,
  listDirectives,
  listDirectivesInput,
  sendDirective,
  sendDirectiveInput,
  type AgentDirective,
  type DirectiveState,
  type DirectiveView,
} from "./directives";
export { agentNotices, type AgentNotices } from "./notices";
export { createSubtask, createSubtaskInput } from "./subtasks";
export { explainTaskClaim, type ClaimExplanation } from "./claim-explanation";
export { goalGraph, layOutGraph, type GoalGraph } from "./goal-graph";
export {
  getOrchestrationSettings,
  projectSettingsInput,
  updateOrchestrationSettings,
  updateOrchestrationSettingsInput,
  type OrchestrationSettingsView,
} from "./project-settings";
export { reviewTask } from "./review";
