import { and, eq, inArray, isNotNull, or, sql, type SQL } from "drizzle-orm";
import { queryRows, type Database } from "@/db/client";
import { agents, budgets, goals } from "@/db/schema";
import { leaseHeldStatuses } from "@/server/orchestration/states";
import {
  periodWindows,
  projectTimeZone,
  resetText,
  type BudgetPeriod,
  type PeriodWindows,
} from "./periods";
import { formatUsd } from "./budget";

// What a budget has used in its current period, and what that means for a
// claim or a tool call. Every budget that applies must hold: a task of a
// goal is refused when the project's budget, the goal's or the claiming
// agent's is spent, whichever it is, and the refusal names that budget.
//
// Spend is the cost (USD) or the tokens (input + output + cache read +
// cache write) of the events in the budget's scope during its period. The
// hourly rollups hold the same sums per hour; they answer whenever the
// period starts on a whole hour (every zone but the few with half-hour
// offsets), the events themselves otherwise.
//
// A goal's own budget_usd and budget_tokens count as total budgets of the
// goal, listed and enforced with the others.

export const budgetScopes = ["project", "goal", "agent"] as const;
export type BudgetScope = (typeof budgetScopes)[number];
export const budgetUnits = ["usd", "tokens"] as const;
export type BudgetUnit = (typeof budgetUnits)[number];
export type BudgetState = "ok" | "soft" | "exhausted";

export interface BudgetRule {
  /** The budget's id; a goal's own limits are "goal-usd:<goal id>" and
   * "goal-tokens:<goal id>". */
  id: string;
  /** A budgets row, or one of the goal's own columns. */
  source: "budget" | "goal";
  scope: BudgetScope;
  goalId: string | null;
  agentId: string | null;
  goalTitle: string | null;
  agentName: string | null;
  unit: BudgetUnit;
  period: BudgetPeriod;
  limit: number;
  softPercent: number | null;
}

export interface BudgetStatus extends BudgetRule {
  /** Spent in the current period, in the budget's unit. */
  spend: number;
  /** USD budgets: estimates of the tasks held now in its scope, which
   * claims count as already spent until those tasks end. */
  reserved: number;
  percent: number;
  state: BudgetState;
  periodStart: Date | null;
  periodEnd: Date | null;
  /** "resets in 5 h 12 min", or "does not reset". */
  resets: string;
}

/** Who a check is about: the agent acting, and the goals in question. */
export interface BudgetSubject {
  agentId?: string | null;
  goalIds?: readonly string[];
}

const HOUR_MS = 3_600_000;

// --- Which budgets exist ---

/** The budgets of a project that apply to `subject`: the project's, the
 * agent's and those of the goals named; without a subject, all of them. */
export async function loadBudgetRules(
  db: Database,
  projectId: string,
  subject?: BudgetSubject,
): Promise<BudgetRule[]> {
  const goalIds = subject?.goalIds ? [...new Set(subject.goalIds)] : null;
  const agentId = subject ? (subject.agentId ?? null) : undefined;
  const wanted: SQL[] = [eq(budgets.scope, "project")];
  if (goalIds === null) wanted.push(eq(budgets.scope, "goal"));
  else if (goalIds.length > 0) wanted.push(inArray(budgets.goalId, goalIds));
  if (agentId === undefined) wanted.push(eq(budgets.scope, "agent"));
  else if (agentId !== null) wanted.push(eq(budgets.agentId, agentId));
  const own = or(isNotNull(goals.budgetUsd), isNotNull(goals.budgetTokens));

  const [rows, goalRows] = await Promise.all([
    db
      .select({
        budget: budgets,
        goalTitle: goals.title,
        agentName: agents.name,
      })
      .from(budgets)
      .leftJoin(goals, eq(goals.id, budgets.goalId))
      .leftJoin(agents, eq(agents.id, budgets.agentId))
      .where(and(eq(budgets.projectId, projectId), or(...wanted)))
      .orderBy(budgets.createdAt, budgets.id),
    goalIds !== null && goalIds.length === 0
      ? []
      : db
          .select({
            id: goals.id,
            title: goals.title,
            budgetUsd: goals.budgetUsd,
            budgetTokens: goals.budgetTokens,
          })
          .from(goals)
          .where(
            and(
              eq(goals.projectId, projectId),
              own,
              goalIds === null ? undefined : inArray(goals.id, goalIds),
            ),
          )
          .orderBy(goals.createdAt, goals.id),
  ]);

  const rules: BudgetRule[] = [];
  for (const goal of goalRows) {
    const base = {
      source: "goal" as const,
      scope: "goal" as const,
      goalId: goal.id,
      agentId: null,
      goalTitle: goal.title,
      agentName: null,
      period: "total" as const,
      softPercent: null,
    };
    if (goal.budgetUsd !== null) {
      rules.push({
        ...base,
        id: `goal-usd:${goal.id}`,
        unit: "usd",
        limit: Number(goal.budgetUsd),
      });
    }
    if (goal.budgetTokens !== null) {
      rules.push({
        ...base,
        id: `goal-tokens:${goal.id}`,
        unit: "tokens",
        limit: Number(goal.budgetTokens),
      });
    }
  }
  for (const { budget, goalTitle, agentName } of rows) {
    rules.push({
      id: budget.id,
      source: "budget",
      scope: budget.scope as BudgetScope,
      goalId: budget.goalId,
      agentId: budget.agentId,
      goalTitle,
      agentName,
      unit: budget.unit as BudgetUnit,
      period: budget.period as BudgetPeriod,
      limit: Number(budget.limitAmount),
      softPercent: budget.softPercent,
    });
  }

  return rules;
}

/** Whether a budget counts the work of `agentId` on a task of `goalId`. */
export function budgetApplies(
  rule: Pick<BudgetRule, "scope" | "goalId" | "agentId">,
  goalId: string | null,
  agentId: string | null,
): boolean {
  if (rule.scope === "project") return true;
  if (rule.scope === "goal") return goalId !== null && rule.goalId === goalId;

  return agentId !== null && rule.agentId === agentId;
}

/** The advisory lock a claim takes before reserving from a USD budget;
 * a goal's own budget keeps the name claims have always used for it. */
export function budgetLockName(rule: BudgetRule): string {
  return rule.source === "goal"
    ? `budget\0${rule.goalId}`
    : `budget\0${rule.id}`;
}

// --- How much they used ---

const rollupTokens = sql`r.input_tokens + r.output_tokens
  + r.cache_read_tokens + r.cache_write_tokens`;
const eventTokens = sql`coalesce(e.input_tokens, 0)
  + coalesce(e.output_tokens, 0) + coalesce(e.cache_read_tokens, 0)
  + coalesce(e.cache_write_5m_tokens, 0) + coalesce(e.cache_write_1h_tokens, 0)`;

function isWholeHour(at: Date | null): boolean {
  return at === null || at.getTime() % HOUR_MS === 0;
}

/** One SELECT of the spend of every target of one scope in one period. */
function spendQuery(
  projectId: string,
  scope: BudgetScope,
  period: BudgetPeriod,
  windows: PeriodWindows | null,
  targets: string[],
): SQL {
  const window = windows?.[period] ?? { start: null, end: null };
  const rolled = isWholeHour(window.start) && isWholeHour(window.end);
  const alias = rolled ? sql`r` : sql`e`;
  const table = rolled ? sql`spend_hourly r` : sql`events e`;
  const time = rolled ? sql`r.hour` : sql`e.occurred_at`;
  const column =
    scope === "goal" ? sql`goal_id` : scope === "agent" ? sql`agent_id` : null;
  const parts = [sql`${alias}.project_id = ${projectId}`];
  if (window.start) {
    parts.push(sql`${time} >= ${window.start.toISOString()}::timestamptz`);
  }
  if (window.end) {
    parts.push(sql`${time} < ${window.end.toISOString()}::timestamptz`);
  }
  if (column) {
    const ids = sql.join(
      targets.map((id) => sql`${id}::uuid`),
      sql`, `,
    );
    parts.push(sql`${alias}.${column} in (${ids})`);
  }
  const target = column ? sql`${alias}.${column}::text` : sql`null::text`;

  return sql`select ${`${scope}:${period}`}::text as grp, ${target} as target,
      coalesce(sum(${alias}.cost_usd), 0)::text as usd,
      coalesce(sum(${rolled ? rollupTokens : eventTokens}), 0)::text as tokens
    from ${table}
    where ${sql.join(parts, sql` and `)}
    ${column ? sql`group by ${alias}.${column}` : sql``}`;
}

/** Spend of each rule in its current period, keyed by rule id. */
async function spendOf(
  db: Database,
  projectId: string,
  rules: BudgetRule[],
  windows: PeriodWindows | null,
): Promise<Map<string, number>> {
  const groups = new Map<string, Set<string>>();
  for (const rule of rules) {
    const key = `${rule.scope}:${rule.period}`;
    const targets = groups.get(key) ?? new Set<string>();
    const target = rule.scope === "goal" ? rule.goalId : rule.agentId;
    if (target) targets.add(target);
    groups.set(key, targets);
  }
  const selects = [...groups.entries()].flatMap(([key, targets]) => {
    const [scope, period] = key.split(":") as [BudgetScope, BudgetPeriod];
    if (scope !== "project" && targets.size === 0) return [];

    return [spendQuery(projectId, scope, period, windows, [...targets])];
  });
  const rows =
    selects.length === 0
      ? []
      : await queryRows<{
          grp: string;
          target: string | null;
          usd: string;
          tokens: string;
        }>(db, sql.join(selects, sql` union all `));
  const sums = new Map(
    rows.map((row) => [`${row.grp}:${row.target ?? ""}`, row]),
  );

  return new Map(
    rules.map((rule) => {
      const target =
        rule.scope === "goal"
          ? rule.goalId
          : rule.scope === "agent"
            ? rule.agentId
            : "";
      const row = sums.get(`${rule.scope}:${rule.period}:${target ?? ""}`);
      const value = rule.unit === "usd" ? row?.usd : row?.tokens;

      return [rule.id, Number(value ?? 0)];
    }),
  );
}

/** Estimates of the tasks held under a live lease at `at`, for each USD
 * rule: the whole project's, a goal's or an agent's. */
async function reservedOf(
  db: Database,
  projectId: string,
  rules: BudgetRule[],
  at: Date,
): Promise<Map<string, number>> {
  const reserved = new Map<string, number>();
  if (!rules.some((rule) => rule.unit === "usd")) return reserved;
  const held = sql.join(
    leaseHeldStatuses.map((status) => sql`${status}`),
    sql`, `,
  );
  const rows = await queryRows<{
    goal_id: string;
    agent_id: string | null;
    estimates: string;
  }>(
    db,
    sql`select t.goal_id, t.holder_agent_id as agent_id,
        coalesce(sum(t.estimate_usd), 0)::text as estimates
      from tasks t
      where t.project_id = ${projectId} and t.status in (${held})
        and t.lease_expires_at > ${at.toISOString()}::timestamptz
      group by t.goal_id, t.holder_agent_id`,
  );
  for (const rule of rules) {
    if (rule.unit !== "usd") continue;
    const total = rows
      .filter((row) => budgetApplies(rule, row.goal_id, row.agent_id))
      .reduce((sum, row) => sum + Number(row.estimates), 0);
    reserved.set(rule.id, total);
  }

  return reserved;
}

export interface MeasureOptions {
  /** Periods already worked out for this moment (a claim reuses them). */
  windows?: PeriodWindows | null;
  /** Also count what held tasks are estimated to cost (claims do). */
  reserve?: boolean;
}

/** The day, week and month around `at` in the project's time zone, or null
 * when no rule needs them. */
export async function windowsFor(
  db: Database,
  projectId: string,
  rules: BudgetRule[],
  at: Date,
): Promise<PeriodWindows | null> {
  if (!rules.some((rule) => rule.period !== "total")) return null;

  return periodWindows(db, await projectTimeZone(db, projectId), at);
}

/** Each rule with its spend, state and period at `at`. */
export async function measureBudgets(
  db: Database,
  projectId: string,
  rules: BudgetRule[],
  at: Date,
  options: MeasureOptions = {},
): Promise<BudgetStatus[]> {
  if (rules.length === 0) return [];
  const windows =
    options.windows === undefined
      ? await windowsFor(db, projectId, rules, at)
      : options.windows;
  const [spends, reserved] = await Promise.all([
    spendOf(db, projectId, rules, windows),
    options.reserve
      ? reservedOf(db, projectId, rules, at)
      : new Map<string, number>(),
  ]);

  return rules.map((rule) => {
    const spend = spends.get(rule.id) ?? 0;
    const window = windows?.[rule.period] ?? { start: null, end: null };
    const percent = rule.limit > 0 ? (spend / rule.limit) * 100 : 100;
    const state: BudgetState =
      spend >= rule.limit
        ? "exhausted"
        : rule.softPercent !== null && percent >= rule.softPercent
          ? "soft"
          : "ok";

    return {
      ...rule,
      spend,
      reserved: reserved.get(rule.id) ?? 0,
      percent,
      state,
      periodStart: window.start,
      periodEnd: window.end,
      resets: resetText(window, at),
    };
  });
}

// --- What it means, in words ---

const periodWords: Record<BudgetPeriod, string> = {
  day: "daily",
  week: "weekly",
  month: "monthly",
  total: "total",
};

/** "$1.23" or "1,234 tokens". */
export function formatAmount(unit: BudgetUnit, value: number): string {
  if (unit === "usd") return formatUsd(value);

  return `${Math.round(value).toLocaleString("en-US")} tokens`;
}

/** Who the budget belongs to: "The project", "Goal 'Ship'", "Agent alpha". */
export function budgetOwner(rule: BudgetRule): string {
  if (rule.scope === "goal") return `Goal '${rule.goalTitle ?? rule.goalId}'`;
  if (rule.scope === "agent") return `Agent ${rule.agentName ?? rule.agentId}`;

  return "The project";
}

/** "its daily budget of $1.00"; a goal's own limit reads as before:
 * "its $1.00 budget". */
function itsBudget(rule: BudgetRule): string {
  const limit = formatAmount(rule.unit, rule.limit);
  if (rule.source === "goal") {
    return rule.unit === "usd"
      ? `its ${limit} budget`
      : `its budget of ${limit}`;
  }

  return `its ${periodWords[rule.period]} budget of ${limit}`;
}

/** A short name for lists: "Project daily USD budget", "Goal 'Ship'
 * total token budget". */
export function budgetName(rule: BudgetRule): string {
  const unit = rule.unit === "usd" ? "USD" : "token";
  const owner = rule.scope === "project" ? "Project" : budgetOwner(rule);

  return `${owner} ${periodWords[rule.period]} ${unit} budget`;
}

/** Why a spent budget refuses: "The project has spent $1.02 of its daily
 * budget of $1.00; resets in 5 h 12 min". */
export function exhaustedMessage(status: BudgetStatus): string {
  const spent = formatAmount(status.unit, status.spend);
  const reset = status.period === "total" ? "" : `; ${status.resets}`;

  return `${budgetOwner(status)} has spent ${spent} of ${itsBudget(status)}${reset}`;
}

/** Why a claim would pass a USD budget once held tasks are counted. */
function reservationMessage(status: BudgetStatus, pending: number): string {
  const reset = status.period === "total" ? "" : ` (${status.resets})`;

  return (
    `${budgetOwner(status)} has ${formatUsd(status.spend)} spent and ` +
    `${formatUsd(status.reserved + pending)} reserved by tasks in progress ` +
    `of ${itsBudget(status)}${reset}`
  );
}

/** The rule name a refusal carries: "goal.budget" for a goal's own USD
 * limit (as before), "goal.budget_tokens", or "budget:<id>". */
export function budgetRuleName(rule: BudgetRule): string {
  if (rule.source === "goal") {
    return rule.unit === "usd" ? "goal.budget" : "goal.budget_tokens";
  }

  return `budget:${rule.id}`;
}

/** The details a 403 carries about the budget that refused. */
export function refusalDetails(status: BudgetStatus): Record<string, unknown> {
  if (status.source === "goal" && status.unit === "usd") {
    return {
      rule: budgetRuleName(status),
      goalId: status.goalId,
      spendUsd: status.spend,
      budgetUsd: status.limit,
    };
  }

  return {
    rule: budgetRuleName(status),
    budgetId: status.source === "budget" ? status.id : null,
    scope: status.scope,
    goalId: status.goalId,
    agentId: status.agentId,
    unit: status.unit,
    period: status.period,
    spend: status.spend,
    limit: status.limit,
    resetsAt: status.periodEnd?.toISOString() ?? null,
  };
}

// --- Deciding ---

export interface BudgetRefusal {
  status: BudgetStatus;
  /** The budget is spent (not only reserved to its limit). */
  exhausted: boolean;
  message: string;
}

/**
 * Whether a task of `goalId` with estimate `estimateUsd` may be claimed by
 * `agentId` under `statuses` (measured with reservations), given `pending`:
 * what earlier claims of the same call already reserved, by rule id. The
 * first budget that refuses is named; null when every one holds.
 */
export function budgetRefusalFor(
  statuses: BudgetStatus[],
  task: { goalId: string; estimateUsd: number },
  agentId: string | null,
  pending: ReadonlyMap<string, number> = new Map(),
): BudgetRefusal | null {
  for (const status of statuses) {
    if (!budgetApplies(status, task.goalId, agentId)) continue;
    if (status.state === "exhausted") {
      return { status, exhausted: true, message: exhaustedMessage(status) };
    }
    if (status.unit !== "usd") continue;
    const before =
      status.spend + status.reserved + (pending.get(status.id) ?? 0);
    if (before >= status.limit || before + task.estimateUsd > status.limit) {
      const message =
        reservationMessage(status, pending.get(status.id) ?? 0) +
        `; this task is estimated at ${formatUsd(task.estimateUsd)}`;

      return { status, exhausted: false, message };
    }
  }

  return null;
}

/** Adds a claimed task's estimate to what the same call reserved from
 * each USD budget that covers it. */
export function reserveEstimate(
  statuses: BudgetStatus[],
  pending: Map<string, number>,
  task: { goalId: string; estimateUsd: number },
  agentId: string,
): void {
  for (const status of statuses) {
    if (status.unit === "usd" && budgetApplies(status, task.goalId, agentId)) {
      pending.set(status.id, (pending.get(status.id) ?? 0) + task.estimateUsd);
    }
  }
}

/** The first spent budget among `statuses` that covers the agent whatever
 * it works on (the project's or its own), or null. */
export function spentAgentBudget(
  statuses: BudgetStatus[],
  agentId: string,
): BudgetStatus | null {
  return (
    statuses.find(
      (status) =>
        status.state === "exhausted" &&
        (status.scope === "project" ||
          (status.scope === "agent" && status.agentId === agentId)),
    ) ?? null
  );
}

/** Of `rules`, the first spent budget that covers `agentId` working on any
 * of `goalIds` at `at` (the project's, the agent's, those goals'), or null
 * when every one holds. */
export async function firstSpentBudget(
  db: Database,
  projectId: string,
  rules: BudgetRule[],
  subject: { agentId: string; goalIds: readonly string[] },
  at: Date,
): Promise<BudgetStatus | null> {
  const covering = rules.filter(
    (rule) =>
      budgetApplies(rule, null, subject.agentId) ||
      subject.goalIds.some((goalId) => budgetApplies(rule, goalId, null)),
  );
  const statuses = await measureBudgets(db, projectId, covering, at);

  return statuses.find((status) => status.state === "exhausted") ?? null;
}
