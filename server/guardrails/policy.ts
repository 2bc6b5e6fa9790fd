import { and, asc, eq, gt, isNull } from "drizzle-orm";
import type { Database } from "@/db/client";
import {
  agents,
  goals,
  guardrailRules,
  projectPauses,
  taskLeases,
  tasks,
} from "@/db/schema";
import { forbidden } from "@/server/errors";
import { now } from "@/server/runtime";
import {
  budgetRuleName,
  exhaustedMessage,
  firstSpentBudget,
  loadBudgetRules,
  type BudgetStatus,
} from "./budget-spend";
import {
  commandMatches,
  commandText,
  pathArguments,
  pathMatches,
  toolMatches,
} from "./match";

// The one policy module: every guardrail decision about what an agent may
// do is made here and comes back with the rule that decided and a reason a
// person understands. Order: the project kill switch, then the agent's own
// pause, then a paused goal of a task it holds, then a spent budget (every
// budget covering the agent must hold), then the tool, command and path
// rules, narrowest scope first.
// Nothing is cached: a pause or a new rule counts from the next call.

export const ruleScopes = ["project", "goal", "agent"] as const;
export type RuleScope = (typeof ruleScopes)[number];
export const ruleKinds = ["tool", "command", "path"] as const;
export type RuleKind = (typeof ruleKinds)[number];
export const decisions = ["allow", "deny", "ask"] as const;
export type DecisionKind = (typeof decisions)[number];

export interface PolicyDecision {
  decision: DecisionKind;
  /** What decided: "project.paused", "agent.paused", "agent.exists",
   * "goal.paused", "guardrail:<rule id>" or "default" when no rule matched. */
  rule: string;
  /** The scope of the guardrail rule that decided, if one did. */
  scope: RuleScope | null;
  reason: string;
}

export type GuardrailRule = Pick<
  typeof guardrailRules.$inferSelect,
  | "id"
  | "scope"
  | "goalId"
  | "agentId"
  | "kind"
  | "tool"
  | "pattern"
  | "decision"
  | "reason"
>;

export interface ToolUse {
  toolName: string;
  toolInput: unknown;
}

/** Whom a rule can apply to: the agent and the goals of its held tasks. */
export interface Subject {
  agentId: string;
  goalIds: readonly string[];
}

const narrowness: Record<RuleScope, number> = {
  project: 1,
  goal: 2,
  agent: 3,
};
const strictness: Record<DecisionKind, number> = { allow: 1, ask: 2, deny: 3 };

function appliesTo(rule: GuardrailRule, subject: Subject): boolean {
  if (rule.scope === "agent") return rule.agentId === subject.agentId;
  if (rule.scope === "goal") {
    return rule.goalId !== null && subject.goalIds.includes(rule.goalId);
  }

  return rule.scope === "project";
}

export function ruleMatches(rule: GuardrailRule, use: ToolUse): boolean {
  if (!toolMatches(rule.tool, use.toolName)) return false;
  if (rule.kind === "tool") return true;
  const pattern = rule.pattern ?? "";
  if (rule.kind === "command") {
    return commandMatches(pattern, commandText(use.toolInput));
  }
  if (rule.kind === "path") {
    return pathArguments(use.toolInput).some((p) => pathMatches(pattern, p));
  }

  return false;
}

/** What a rule is about, in words: "Bash commands matching "git push"". */
export function describeRule(
  rule: Pick<GuardrailRule, "kind" | "tool" | "pattern">,
) {
  const tools = rule.tool === "*" ? "any tool" : rule.tool;
  if (rule.kind === "command") {
    return `${tools} commands matching "${rule.pattern ?? ""}"`;
  }
  if (rule.kind === "path") {
    return `paths matching "${rule.pattern ?? ""}" (${tools})`;
  }

  return rule.tool === "*" ? "every tool" : `the tool ${rule.tool}`;
}

const verbs: Record<DecisionKind, string> = {
  allow: "Allowed",
  deny: "Blocked",
  ask: "Needs a person's approval",
};

/** Decides a tool call from the rules alone: among the rules that match,
 * the narrowest scope wins (agent over goal over project); within one scope
 * the strictest decision wins (deny over ask over allow). */
export function decideToolUse(
  rules: readonly GuardrailRule[],
  use: ToolUse,
  subject: Subject,
): PolicyDecision {
  let winner: GuardrailRule | null = null;
  for (const rule of rules) {
    if (!appliesTo(rule, subject) || !ruleMatches(rule, use)) continue;
    const scope = rule.scope as RuleScope;
    const decision = rule.decision as DecisionKind;
    if (
      !winner ||
      narrowness[scope] > narrowness[winner.scope as RuleScope] ||
      (narrowness[scope] === narrowness[winner.scope as RuleScope] &&
        strictness[decision] > strictness[winner.decision as DecisionKind])
    ) {
      winner = rule;
    }
  }
  if (!winner) {
    return {
      decision: "allow",
      rule: "default",
      scope: null,
      reason: "No guardrail matches this tool call",
    };
  }
  const decision = winner.decision as DecisionKind;
  const note = winner.reason ? `: ${winner.reason}` : "";

  return {
    decision,
    rule: `guardrail:${winner.id}`,
    scope: winner.scope as RuleScope,
    reason: `${verbs[decision]} by the ${winner.scope} guardrail on ${describeRule(winner)}${note}`,
  };
}

interface Standing {
  agentName: string | null;
  agentStatus: string | null;
  agentReason: string | null;
  pauseReason: string | null;
}

// The agent and its project's kill switch, in one round trip.
async function standing(
  db: Database,
  projectId: string,
  agentId: string,
): Promise<Standing> {
  const [row] = await db
    .select({
      agentName: agents.name,
      agentStatus: agents.status,
      agentReason: agents.pausedReason,
      pauseReason: projectPauses.reason,
    })
    .from(agents)
    .leftJoin(projectPauses, eq(projectPauses.projectId, agents.projectId))
    .where(and(eq(agents.id, agentId), eq(agents.projectId, projectId)))
    .limit(1);
  if (row) return row;
  const [pause] = await db
    .select({ reason: projectPauses.reason })
    .from(projectPauses)
    .where(eq(projectPauses.projectId, projectId))
    .limit(1);

  return {
    agentName: null,
    agentStatus: null,
    agentReason: null,
    pauseReason: pause?.reason ?? null,
  };
}

function standingDecision(found: Standing): PolicyDecision | null {
  if (found.pauseReason !== null) {
    return {
      decision: "deny",
      rule: "project.paused",
      scope: "project",
      reason: `The project is paused by an operator: ${found.pauseReason}`,
    };
  }
  if (found.agentStatus === null) {
    return {
      decision: "deny",
      rule: "agent.exists",
      scope: null,
      reason: "Unknown agent",
    };
  }
  if (found.agentStatus === "paused") {
    return {
      decision: "deny",
      rule: "agent.paused",
      scope: "agent",
      reason:
        `Agent ${found.agentName ?? ""} is paused by an operator` +
        (found.agentReason ? `: ${found.agentReason}` : ""),
    };
  }

  return null;
}

// Goals of the tasks the agent holds a live lease on: their goal rules
// apply to its tool calls, and a paused one refuses them.
async function heldGoals(db: Database, agentId: string) {
  return db
    .selectDistinct({
      goalId: tasks.goalId,
      title: goals.title,
      status: goals.status,
    })
    .from(taskLeases)
    .innerJoin(tasks, eq(tasks.id, taskLeases.taskId))
    .innerJoin(goals, eq(goals.id, tasks.goalId))
    .where(
      and(
        eq(taskLeases.agentId, agentId),
        isNull(taskLeases.endedAt),
        gt(taskLeases.expiresAt, now()),
      ),
    );
}

/** A tool call by an agent working on a paused goal's task is refused. */
function goalPauseDecision(
  held: { title: string; status: string }[],
): PolicyDecision | null {
  const paused = held.find((goal) => goal.status === "paused");
  if (!paused) return null;

  return {
    decision: "deny",
    rule: "goal.paused",
    scope: "goal",
    reason: `Goal '${paused.title}' is paused by an operator; stop work on its tasks until it is resumed`,
  };
}

async function projectRules(db: Database, projectId: string) {
  return db
    .select({
      id: guardrailRules.id,
      scope: guardrailRules.scope,
      goalId: guardrailRules.goalId,
      agentId: guardrailRules.agentId,
      kind: guardrailRules.kind,
      tool: guardrailRules.tool,
      pattern: guardrailRules.pattern,
      decision: guardrailRules.decision,
      reason: guardrailRules.reason,
    })
    .from(guardrailRules)
    .where(eq(guardrailRules.projectId, projectId))
    .orderBy(asc(guardrailRules.createdAt), asc(guardrailRules.id));
}

/** The policy's answer for an agent of a project: without `toolUse`, whether
 * it may act at all (claims); with it, whether it may make that tool call
 * (Claude Code's PreToolUse). */
export async function evaluate(
  db: Database,
  subject: { projectId: string; agentId: string; toolUse?: ToolUse },
): Promise<PolicyDecision> {
  const [found, rules, held, budgets] = await Promise.all([
    standing(db, subject.projectId, subject.agentId),
    subject.toolUse ? projectRules(db, subject.projectId) : [],
    subject.toolUse ? heldGoals(db, subject.agentId) : [],
    subject.toolUse
      ? loadBudgetRules(db, subject.projectId, { agentId: subject.agentId })
      : [],
  ]);
  const refused = standingDecision(found) ?? goalPauseDecision(held);
  if (refused) return refused;
  if (!subject.toolUse) {
    return {
      decision: "allow",
      rule: "default",
      scope: null,
      reason: "The project and the agent are active",
    };
  }
  const spent = await firstSpentBudget(
    db,
    subject.projectId,
    budgets,
    { agentId: subject.agentId, goalIds: held.map((goal) => goal.goalId) },
    now(),
  );
  if (spent) return budgetDecision(spent);

  return decideToolUse(rules, subject.toolUse, {
    agentId: subject.agentId,
    goalIds: held.map((goal) => goal.goalId),
  });
}

/** A spent budget covering the agent or the goal of a task it holds
 * refuses its tool calls, naming the budget, its spend, its limit and when
 * it resets. */
function budgetDecision(spent: BudgetStatus): PolicyDecision {
  const until =
    spent.period === "total"
      ? "until an admin raises it"
      : "until it resets or an admin raises it";

  return {
    decision: "deny",
    rule: budgetRuleName(spent),
    scope: spent.scope,
    reason: `${exhaustedMessage(spent)}. Tool calls are refused ${until}`,
  };
}

/** Throws 403 with the reason while the project is paused (the kill switch
 * refuses claims). */
export async function assertProjectActive(db: Database, projectId: string) {
  const [pause] = await db
    .select({ reason: projectPauses.reason })
    .from(projectPauses)
    .where(eq(projectPauses.projectId, projectId))
    .limit(1);
  if (pause) {
    throw forbidden(`The project is paused by an operator: ${pause.reason}`, {
      rule: "project.paused",
    });
  }
}

export interface PreToolUseOutput {
  hookSpecificOutput: {
    hookEventName: "PreToolUse";
    permissionDecision: DecisionKind;
    permissionDecisionReason?: string;
  };
}

/** The decision in the form Claude Code obeys: deny and ask carry the
 * reason (Claude Code shows it to the model or the person). */
export function preToolUseOutput(decision: PolicyDecision): PreToolUseOutput {
  if (decision.decision === "allow") {
    return {
      hookSpecificOutput: {
        hookEventName: "PreToolUse",
        permissionDecision: "allow",
      },
    };
  }

  return {
    hookSpecificOutput: {
      hookEventName: "PreToolUse",
      permissionDecision: decision.decision,
      permissionDecisionReason: decision.reason,
    },
  };
}
