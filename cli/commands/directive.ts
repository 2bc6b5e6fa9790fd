import type { Command } from "commander";
import {
  cancelDirective,
  sendDirective,
  type DirectiveView,
} from "@/server/orchestration/directives";
import { now } from "@/server/runtime";
import { cliActor, emit, withDatabase } from "../context";

// `flotilla directive send --project P --agent A TEXT` tells an agent
// something in the notices of its next heartbeat or claim;
// `flotilla directive cancel ID` withdraws one not yet acknowledged.

const unitSeconds: Record<string, number> = {
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
};

/** "90m", "2h", "1d" from now, or a date the domain parses ("2026-12-31T
 * 12:00Z"); anything else goes on as given so the domain names the field. */
export function expiryOption(
  value: string | undefined,
): Date | string | undefined {
  if (value === undefined) return undefined;
  const relative = /^\s*(\d+)\s*([smhd])\s*$/.exec(value);
  if (!relative) return value;

  return new Date(
    now().getTime() + Number(relative[1]) * unitSeconds[relative[2]] * 1000,
  );
}

function describe(directive: DirectiveView): string {
  return `directive ${directive.id} to agent ${directive.agent.name} (${directive.state})`;
}

export function register(program: Command) {
  const directive = program
    .command("directive")
    .description("Send instructions to an agent, or withdraw them");

  directive
    .command("send")
    .description(
      "Send a directive; the agent gets it with its next heartbeat or claim",
    )
    .argument("<text>", "what the agent should do")
    .requiredOption("--project <slug>", "the project")
    .requiredOption("--agent <agent>", "the agent's name or id")
    .option("--priority <priority>", "low, normal, high or urgent", "normal")
    .option(
      "--expires <when>",
      "drop it if undelivered by then: 30m, 2h, 1d or an ISO date",
    )
    .option("--json", "print the result as JSON")
    .action(
      async (
        text: string,
        options: {
          project: string;
          agent: string;
          priority: string;
          expires?: string;
          json?: boolean;
        },
      ) => {
        const sent = await withDatabase(({ db }) =>
          sendDirective(db, cliActor, {
            project: options.project,
            agent: options.agent,
            body: text,
            priority: options.priority,
            expiresAt: expiryOption(options.expires),
          }),
        );
        emit(options, { directive: sent }, `Sent ${describe(sent)}`);
      },
    );

  directive
    .command("cancel")
    .description("Withdraw a directive the agent has not acknowledged")
    .argument("<id>", "the directive's id")
    .option("--json", "print the result as JSON")
    .action(async (directiveId: string, options: { json?: boolean }) => {
      const cancelled = await withDatabase(({ db }) =>
        cancelDirective(db, cliActor, { directiveId }),
      );
      emit(
        options,
        { directive: cancelled },
        `Cancelled ${describe(cancelled)}`,
      );
    });
}
