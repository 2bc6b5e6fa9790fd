// The orchestration domain: goals, tasks, claims and leases.
export { createGoal, getGoal, listGoals, updateGoal } from "./goals";
export {
  cancelTask,
  createTask,
  getTask,
  listTasks,
  releaseTaskAsOperator,
} from "./tasks";
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
export type { GoalView, TaskView } from "./views";
export * from "./schemas";
