import type { Database } from "@/db/client";
import { forbidden } from "@/server/errors";
import { raiseBudgetAlerts } from "./budget-alerts";
import {
  budgetApplies,
  budgetLockName,
  budgetRefusalFor,
  exhaustedMessage,
  loadBudgetRules,
  measureBudgets,
  refusalDetails,
  reserveEstimate,
  spentAgentBudget,
  windowsFor,
  type BudgetRule,
  type BudgetStatus,
} from "./budget-spend";
import {
  agentHeldCount,
  agentLimitMessage,
  concurrencyLockNames,
  goalLimitMessage,
  goalLimits,
  type AgentLimit,
} from "./concurrency";
import type { PeriodWindows } from "./periods";

// The budgets and concurrency limits a claim passes, in two steps. Before
// picking tasks (claimLimits): a spent project or agent budget refuses the
// claim outright, and goals with a spent budget or at their limit of held
// tasks are left out of the pick. After locking its candidates (openGate):
// budgets and held-task counts are read again, under advisory locks on
// every budget and limit the candidates touch, and each candidate is
// admitted in turn, reserving its estimate, so concurrent claims cannot
// pass a limit together.

export interface ClaimLimits {
  rules: BudgetRule[];
  windows: PeriodWindows | null;
  agentLimit: AgentLimit | null;
  /** Tasks the agent holds now, when it has a limit. */
  agentHeld: number;
  /** Goals whose own budget is spent: their tasks are not offered. */
  spentGoals: Map<string, BudgetStatus>;
  /** Goals at their limit of held tasks. */
  fullGoalIds: string[];
}

/**
 * What a claim by `agentId` may take, read before it picks. Raises the
 * alerts the budgets are due; throws 403 naming the budget when a spent
 * budget covers the agent whatever it works on, or `goalId` when asked
 * for.
 */
export async function claimLimits(
  db: Database,
  subject: {
    projectId: string;
    agentId: string;
    agentLimit: AgentLimit | null;
    goalId?: string;
  },
  at: Date,
): Promise<ClaimLimits> {
  const { projectId, agentId } = subject;
  const rules = await loadBudgetRules(db, projectId, { agentId });
  const windows = await windowsFor(db, projectId, rules, at);
  const [statuses, goals, agentHeld] = await Promise.all([
    measureBudgets(db, projectId, rules, at, { windows }),
    goalLimits(db, projectId, null, at),
    subject.agentLimit ? agentHeldCount(db, agentId, at) : 0,
  ]);
  await raiseBudgetAlerts(db, projectId, statuses);

  const spent = spentAgentBudget(statuses, agentId);
  if (spent) throw forbidden(exhaustedMessage(spent), refusalDetails(spent));
  const spentGoals = new Map<string, BudgetStatus>();
  for (const status of statuses) {
    if (status.scope !== "goal" || status.state !== "exhausted") continue;
    if (status.goalId && !spentGoals.has(status.goalId)) {
      spentGoals.set(status.goalId, status);
    }
  }
  const asked = subject.goalId ? spentGoals.get(subject.goalId) : undefined;
  if (asked) throw forbidden(exhaustedMessage(asked), refusalDetails(asked));

  return {
    rules,
    windows,
    agentLimit: subject.agentLimit,
    agentHeld,
    spentGoals,
    fullGoalIds: goals.filter((g) => g.held >= g.limit).map((g) => g.goalId),
  };
}

export interface GateCandidate {
  goalId: string;
  estimateUsd: number;
  /** The goal's limit on held tasks, if it has one. */
  goalLimited: boolean;
}

/** The advisory locks to take, with the candidates' scope locks, before
 * opening the gate: each USD budget a candidate would reserve from, the
 * agent's limit and each limited goal's. */
export function gateLockNames(
  limits: ClaimLimits,
  agentId: string,
  candidates: GateCandidate[],
): string[] {
  const names = new Set<string>();
  for (const rule of limits.rules) {
    if (rule.unit !== "usd") continue;
    if (candidates.some((c) => budgetApplies(rule, c.goalId, agentId))) {
      names.add(budgetLockName(rule));
    }
  }
  const limitedGoals = candidates
    .filter((c) => c.goalLimited)
    .map((c) => c.goalId);
  for (const name of concurrencyLockNames(agentId, limits.agentLimit !== null, [
    ...new Set(limitedGoals),
  ])) {
    names.add(name);
  }

  return [...names];
}

export interface GateRefusal {
  reason: "budget" | "concurrency";
  message: string;
  /** The goal refused as a whole (its limit, its budget), if so. */
  goalId?: string;
  /** Nothing more can be admitted for this agent in this claim. */
  final?: boolean;
}

export interface ClaimGate {
  /** Null admits the candidate (and counts it against every limit for
   * the ones after it); otherwise why not. */
  admit(candidate: GateCandidate): GateRefusal | null;
}

/** Reads spend, reservations and held counts as they are now; call it
 * inside the claim's transaction after gateLockNames' locks. */
export async function openGate(
  tx: Database,
  limits: ClaimLimits,
  subject: { projectId: string; agentId: string },
  candidates: GateCandidate[],
  at: Date,
): Promise<ClaimGate> {
  const { projectId, agentId } = subject;
  const goalIds = [...new Set(candidates.map((c) => c.goalId))];
  const rules = limits.rules.filter((rule) =>
    goalIds.some((goalId) => budgetApplies(rule, goalId, agentId)),
  );
  const [statuses, goals, agentHeld] = await Promise.all([
    measureBudgets(tx, projectId, rules, at, {
      windows: limits.windows,
      reserve: true,
    }),
    goalLimits(
      tx,
      projectId,
      [
        ...new Set(
          candidates.filter((c) => c.goalLimited).map((c) => c.goalId),
        ),
      ],
      at,
    ),
    limits.agentLimit ? agentHeldCount(tx, agentId, at) : 0,
  ]);
  const pending = new Map<string, number>();
  const goalHeld = new Map(goals.map((goal) => [goal.goalId, goal.held]));
  const byGoal = new Map(goals.map((goal) => [goal.goalId, goal]));
  let held = agentHeld;

  return {
    admit(candidate) {
      const agentLimit = limits.agentLimit;
      if (agentLimit && held >= agentLimit.limit) {
        return {
          reason: "concurrency",
          message: agentLimitMessage(agentLimit, held),
          final: true,
        };
      }
      const goal = byGoal.get(candidate.goalId);
      const goalCount = goalHeld.get(candidate.goalId) ?? 0;
      if (goal && goalCount >= goal.limit) {
        return {
          reason: "concurrency",
          message: goalLimitMessage(goal, goalCount),
          goalId: candidate.goalId,
        };
      }
      const refusal = budgetRefusalFor(statuses, candidate, agentId, pending);
      if (refusal) {
        const { scope } = refusal.status;

        return {
          reason: "budget",
          message: refusal.message,
          goalId: scope === "goal" ? candidate.goalId : undefined,
          final: scope !== "goal" && refusal.exhausted,
        };
      }

      reserveEstimate(statuses, pending, candidate, agentId);
      held += 1;
      if (goal) goalHeld.set(candidate.goalId, goalCount + 1);

      return null;
    },
  };
}
