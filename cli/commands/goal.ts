import type { Command } from "commander";
import { formatUsd } from "@/server/guardrails/budget";
import { createGoal, listGoals, type GoalView } from "@/server/orchestration";
import { pauseGoal, resumeGoal } from "@/server/orchestration/goal-pause";
import { cliActor, emit, withDatabase } from "../context";

// `flotilla goal create|list --project SLUG` and
// `flotilla goal pause|resume ID`.

interface GoalOptions {
  project: string;
  json?: boolean;
}

/** A number from the command line; anything else is passed on as NaN so
 * the domain's validation names the option. */
function usdOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;

  // Plain decimal only: Number() would also take "0x10" or "1e3".
  return /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : Number.NaN;
}

interface CreateOptions {
  title: string;
  description?: string;
  criteria: string[];
  owner?: string;
  priority?: string;
  due?: string;
  budgetUsd?: string;
  budgetTokens?: string;
  maxActive?: string;
  draft?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A whole number from the command line; anything else is NaN, which the
 * domain's validation refuses naming the field. */
function intOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;

  return /^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
}

/** "3/5 tasks done (60%)", or "no tasks". */
function progressText(goal: GoalView): string {
  const { done, total, percent } = goal.progress;

  return total === 0 ? "no tasks" : `${done}/${total} tasks done (${percent}%)`;
}

function detailLine(goal: GoalView): string {
  const criteria = goal.successCriteria;
  const parts = [
    `priority ${goal.priority}`,
    `owner ${goal.owner?.email ?? "none"}`,
    `due ${goal.dueAt ? goal.dueAt.toISOString().slice(0, 10) : "none"}`,
    criteria.length === 0
      ? "no criteria"
      : `criteria ${criteria.filter((c) => c.done).length}/${criteria.length} met`,
  ];
  if (goal.budgetTokens !== null) {
    parts.push(
      `tokens ${goal.spendTokens.toLocaleString("en-US")} of ` +
        goal.budgetTokens.toLocaleString("en-US"),
    );
  }

  return parts.join("; ");
}

function spendLine(goal: GoalView): string {
  const budget =
    goal.budgetUsd === null
      ? "no budget"
      : `budget ${formatUsd(goal.budgetUsd)}`;
  const flag = goal.overBudget ? "  OVER BUDGET" : "";

  return `spent ${formatUsd(goal.spendUsd)}, ${budget}${flag}`;
}

export function register(program: Command) {
  const goal = program.command("goal").description("Manage a project's goals");

  goal
    .command("create")
    .description(
      "Create a goal with its success criteria, owner, priority, due date " +
        "and budgets",
    )
    .requiredOption("--project <slug>", "the project")
    .requiredOption("--title <title>", "what the goal achieves")
    .option("--description <text>", "more detail for agents and people")
    .option(
      "--criteria <text>",
      "a success criterion; repeat for each line of the checklist",
      collect,
      [],
    )
    .option("--owner <email>", "the person who owns the goal (email or id)")
    .option("--priority <n>", "higher first, -1000 to 1000 (default 0)")
    .option("--due <date>", "due date, e.g. 2026-12-31 or an ISO time")
    .option(
      "--budget-usd <usd>",
      "hard spend limit; claims stop once it is reached",
    )
    .option("--budget-tokens <n>", "hard limit in tokens (input + output)")
    .option("--max-active <n>", "at most this many tasks held at once")
    .option("--draft", "create it as a draft: its tasks are not claimed yet")
    .option("--json", "print the result as JSON")
    .action(async (options: GoalOptions & CreateOptions) => {
      const created = await withDatabase(({ db }) =>
        createGoal(db, cliActor, {
          project: options.project,
          title: options.title,
          description: options.description,
          budgetUsd: usdOption(options.budgetUsd),
          budgetTokens: intOption(options.budgetTokens),
          successCriteria: options.criteria.map((text) => ({ text })),
          owner: options.owner,
          priority: intOption(options.priority),
          dueAt: options.due,
          maxActiveTasks: intOption(options.maxActive),
          draft: options.draft ?? false,
        }),
      );
      emit(
        options,
        { goal: created },
        `Created ${created.status} goal '${created.title}' (${created.id}) ` +
          `in ${options.project}: ${spendLine(created)}`,
      );
    });

  goal
    .command("list")
    .description(
      "List a project's goals: status, progress, owner, priority, due date, " +
        "criteria, spend and budget",
    )
    .requiredOption("--project <slug>", "the project")
    .option("--json", "print the result as JSON")
    .action(async (options: GoalOptions) => {
      const goals = await withDatabase(({ db }) =>
        listGoals(db, cliActor, { project: options.project }),
      );
      const lines = goals.map(
        (g) =>
          `${g.id}  ${g.status.padEnd(6)}  ${g.title}  ` +
          `(${progressText(g)}; ${spendLine(g)})\n    ${detailLine(g)}`,
      );
      emit(
        options,
        { goals },
        lines.length > 0 ? lines.join("\n") : "No goals yet.",
      );
    });

  goal
    .command("pause")
    .description(
      "Pause a goal: its tasks are not claimed and agents holding them are " +
        "refused tool calls",
    )
    .argument("<id>", "the goal's id")
    .option("--json", "print the result as JSON")
    .action(async (goalId: string, options: { json?: boolean }) => {
      const paused = await withDatabase(({ db }) =>
        pauseGoal(db, cliActor, { goalId }),
      );
      emit(options, { goal: paused }, `Paused goal '${paused.title}'`);
    });

  goal
    .command("resume")
    .description("Resume a paused goal: its tasks can be claimed again")
    .argument("<id>", "the goal's id")
    .option("--json", "print the result as JSON")
    .action(async (goalId: string, options: { json?: boolean }) => {
      const resumed = await withDatabase(({ db }) =>
        resumeGoal(db, cliActor, { goalId }),
      );
      emit(options, { goal: resumed }, `Resumed goal '${resumed.title}'`);
    });
}
