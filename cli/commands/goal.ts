import type { Command } from "commander";
import { formatUsd } from "@/server/guardrails/budget";
import { createGoal, listGoals, type GoalView } from "@/server/orchestration";
import { cliActor, emit, withDatabase } from "../context";

// `flotilla goal create|list --project SLUG`.

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
    .description("Create a goal, optionally with a budget in USD")
    .requiredOption("--project <slug>", "the project")
    .requiredOption("--title <title>", "what the goal achieves")
    .option("--description <text>", "more detail for agents and people")
    .option(
      "--budget-usd <usd>",
      "hard spend limit; claims stop once it is reached",
    )
    .option("--json", "print the result as JSON")
    .action(
      async (
        options: GoalOptions & {
          title: string;
          description?: string;
          budgetUsd?: string;
        },
      ) => {
        const created = await withDatabase(({ db }) =>
          createGoal(db, cliActor, {
            project: options.project,
            title: options.title,
            description: options.description,
            budgetUsd: usdOption(options.budgetUsd),
          }),
        );
        emit(
          options,
          { goal: created },
          `Created goal '${created.title}' (${created.id}) in ` +
            `${options.project}: ${spendLine(created)}`,
        );
      },
    );

  goal
    .command("list")
    .description("List a project's goals with their spend and budget")
    .requiredOption("--project <slug>", "the project")
    .option("--json", "print the result as JSON")
    .action(async (options: GoalOptions) => {
      const goals = await withDatabase(({ db }) =>
        listGoals(db, cliActor, { project: options.project }),
      );
      const lines = goals.map(
        (g) =>
          `${g.id}  ${g.status.padEnd(6)}  ${g.title}  ` +
          `(${g.taskTotal} tasks; ${spendLine(g)})`,
      );
      emit(
        options,
        { goals },
        lines.length > 0 ? lines.join("\n") : "No goals yet.",
      );
    });
}
