import type { Command } from "commander";
import { releaseTaskAsOperator } from "@/server/orchestration";
import { reassignTask } from "@/server/orchestration/reassign";
import { cliActor, emit, withDatabase } from "../context";

// `flotilla task release ID` takes a task from the agent holding it (back
// to ready); `flotilla task reassign ID --to AGENT` hands it to a named
// agent, which holds it under a new lease and hears of it in its notices.

interface TaskOptions {
  reason?: string;
  json?: boolean;
}

export function register(program: Command) {
  const task = program
    .command("task")
    .description("Step in on a task: release or reassign it");

  task
    .command("release")
    .description(
      "Take a task from the agent holding it; it is ready for another claim",
    )
    .argument("<id>", "the task's id")
    .option("--reason <reason>", "why, kept in the task's history and audit")
    .option("--json", "print the result as JSON")
    .action(async (taskId: string, options: TaskOptions) => {
      const released = await withDatabase(({ db }) =>
        releaseTaskAsOperator(db, cliActor, {
          taskId,
          reason: options.reason,
        }),
      );
      emit(
        options,
        { task: released },
        `Released task '${released.title}'; it is ${released.status}`,
      );
    });

  task
    .command("reassign")
    .description(
      "Hand a task to a named agent: the current lease ends and the agent " +
        "holds the task under a new one",
    )
    .argument("<id>", "the task's id")
    .requiredOption("--to <agent>", "the agent (name or id) to hand it to")
    .option("--reason <reason>", "why; passed on to the agents and audited")
    .option("--json", "print the result as JSON")
    .action(async (taskId: string, options: TaskOptions & { to: string }) => {
      const reassigned = await withDatabase(({ db }) =>
        reassignTask(db, cliActor, {
          taskId,
          agent: options.to,
          reason: options.reason,
        }),
      );
      const until = reassigned.leaseExpiresAt?.toISOString() ?? "";
      emit(
        options,
        { task: reassigned },
        `Reassigned task '${reassigned.title}' to agent ` +
          `${reassigned.holder?.name ?? options.to} (lease until ${until})`,
      );
    });
}
