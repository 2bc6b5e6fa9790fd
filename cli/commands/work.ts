import type { Command } from "commander";
import type { ClaimResult, EventBatchInput, Task } from "@/client";
import { CliError, emit } from "../context";
import { agentClient, callServer } from "./agent-client";

// Agent-side task commands for shell-driven agents: claim, heartbeat,
// complete, fail and release, over the agent API with FLOTILLA_URL and
// FLOTILLA_TOKEN. Exit codes: 0 done, 2 refused by the server, 3 server
// unreachable or failing.

interface JsonOption {
  json?: boolean;
}

function leaseLine(claimed: ClaimResult) {
  return `lease ${claimed.lease.id} until ${claimed.lease.expiresAt}`;
}

function taskLine(task: Task) {
  return `${task.id} ${task.status} ${task.title}`;
}

/** Seconds from an option, checked here so a typo is not a server 400. */
function seconds(value: string | undefined, option: string) {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) {
    throw new CliError(`${option} must be a whole number of seconds`, 1);
  }

  return parsed;
}

export function register(program: Command) {
  program
    .command("claim")
    .description("Claim the best ready task (exit 0 with a note if none)")
    .option("--goal <id>", "only tasks of this goal")
    .option("--ttl <seconds>", "lease length in seconds (10-3600)")
    .option("--json", "print the result as JSON ({ task: null } if none)")
    .action(async (options: JsonOption & { goal?: string; ttl?: string }) => {
      const client = agentClient();
      const claimed = await callServer(() =>
        client.claim({
          goalId: options.goal,
          ttlSeconds: seconds(options.ttl, "--ttl"),
        }),
      );
      if (!claimed) {
        emit(options, { task: null, lease: null }, "No task is ready.");

        return;
      }
      emit(
        options,
        claimed,
        `Claimed ${taskLine(claimed.task)}\n${leaseLine(claimed)}`,
      );
    });

  program
    .command("heartbeat")
    .description("Extend your lease on a task you hold")
    .argument("<task>", "task id")
    .option("--lease <id>", "the lease id from claim")
    .option("--ttl <seconds>", "new lease length in seconds (10-3600)")
    .option("--json", "print the result as JSON")
    .action(
      async (
        taskId: string,
        options: JsonOption & { lease?: string; ttl?: string },
      ) => {
        const client = agentClient();
        const renewed = await callServer(() =>
          client.heartbeat(taskId, {
            leaseId: options.lease,
            ttlSeconds: seconds(options.ttl, "--ttl"),
          }),
        );
        emit(options, renewed, `Renewed ${leaseLine(renewed)}`);
      },
    );

  program
    .command("complete")
    .description("Mark a task you hold done")
    .argument("<task>", "task id")
    .option("--result <text>", "what was done, for the people reviewing")
    .option("--lease <id>", "the lease id from claim")
    .option("--json", "print the result as JSON")
    .action(
      async (
        taskId: string,
        options: JsonOption & { result?: string; lease?: string },
      ) => {
        const client = agentClient();
        const done = await callServer(() =>
          client.complete(taskId, {
            result: options.result,
            leaseId: options.lease,
          }),
        );
        emit(options, done, `Completed ${taskLine(done.task)}`);
      },
    );

  program
    .command("fail")
    .description("Mark a task you hold failed, saying why")
    .argument("<task>", "task id")
    .requiredOption("--reason <text>", "why the task failed")
    .option("--lease <id>", "the lease id from claim")
    .option("--json", "print the result as JSON")
    .action(
      async (
        taskId: string,
        options: JsonOption & { reason: string; lease?: string },
      ) => {
        const client = agentClient();
        const failed = await callServer(() =>
          client.fail(taskId, {
            reason: options.reason,
            leaseId: options.lease,
          }),
        );
        emit(options, failed, `Failed ${taskLine(failed.task)}`);
      },
    );

  program
    .command("release")
    .description("Give a task you hold back so another agent can claim it")
    .argument("<task>", "task id")
    .option("--lease <id>", "the lease id from claim")
    .option("--json", "print the result as JSON")
    .action(
      async (taskId: string, options: JsonOption & { lease?: string }) => {
        const client = agentClient();
        const released = await callServer(() =>
          client.release(taskId, { leaseId: options.lease }),
        );
        emit(options, released, `Released ${taskLine(released.task)}`);
      },
    );
}

/** Reads a JSON array of events or a { source?, events } batch. */
export function parseEventInput(text: string): EventBatchInput {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(
      `stdin is not JSON: ${(error as Error).message.slice(0, 200)}`,
      1,
    );
  }
  if (Array.isArray(parsed)) return { events: parsed };
  const events = (parsed as { events?: unknown } | null)?.events;
  if (parsed && typeof parsed === "object" && Array.isArray(events)) {
    return parsed as EventBatchInput;
  }
  throw new CliError(
    'stdin must hold a JSON array of events or { "events": [...] }',
    1,
  );
}
