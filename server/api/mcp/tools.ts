import { z, type ZodType } from "zod";
import type { Database } from "@/db/client";
import type { Actor } from "@/server/identity/actor";
import { parseInput } from "@/server/input";
import {
  answerQuestion,
  answerQuestionInput,
  type ContextResult,
  type SectionPointer,
} from "@/server/context";
import {
  claimInput,
  claimNextTask,
  completeInput,
  completeTask,
  createTask,
  createTaskInput,
  failInput,
  failTask,
  heartbeat,
  heartbeatInput,
  listGoals,
  listGoalsInput,
  releaseInput,
  releaseTask,
  type ClaimedTask,
  type GoalView,
  type TaskView,
} from "@/server/orchestration";
import { ingestEvents, type IngestResult } from "@/server/observability/ingest";
import {
  MAX_BATCH_EVENTS,
  nativeBatchSchema,
  nativeEventSchema,
} from "@/server/observability/model";

// The MCP tools: each calls the same domain function as its agent API route,
// validates with the same zod schema, and answers in compact text an agent
// reads cheaply, with the ids it needs for the next call.

export type AgentActor = Extract<Actor, { kind: "agent" }>;

export interface McpTool {
  name: string;
  description: string;
  /** JSON Schema of the arguments, as listed to clients. */
  inputSchema: { type: "object"; [key: string]: unknown };
  call(db: Database, actor: AgentActor, args: unknown): Promise<string>;
}

interface ToolDefinition<S extends ZodType> {
  name: string;
  description: string;
  input: S;
  /** false when the domain function validates the raw arguments itself
   * (as the HTTP route lets it), so its messages are the same. */
  parse?: boolean;
  run(db: Database, actor: AgentActor, args: z.infer<S>): Promise<string>;
}

/** Drops what the listing need not spell out: a regular expression next
 * to the format it implements (uuid, date-time), and JSON's own rule that
 * keys are strings. The listing is paid for in tokens by every client at
 * start-up; validation still uses the full zod schema. */
function compactSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(compactSchema);
  if (!node || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  const record = node as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    if (key === "$schema") continue;
    if (key === "pattern" && typeof record.format === "string") continue;
    if (key === "propertyNames") continue;
    out[key] = compactSchema(value);
  }

  return out;
}

function defineTool<S extends ZodType>(definition: ToolDefinition<S>): McpTool {
  const schema = compactSchema(
    z.toJSONSchema(definition.input, { io: "input", unrepresentable: "any" }),
  ) as Record<string, unknown>;

  return {
    name: definition.name,
    description: definition.description,
    inputSchema: { ...schema, type: "object" },
    call: (db, actor, args) => {
      const values =
        definition.parse === false
          ? (args as z.infer<S>)
          : parseInput(definition.input, args ?? {}, "arguments");

      return definition.run(db, actor, values);
    },
  };
}

const iso = (at: Date | null) => (at ? at.toISOString() : "never");
const usd = (value: number | null) =>
  value === null ? "none" : `$${value.toFixed(4).replace(/\.?0+$/, "")}`;

function taskLine(task: TaskView): string {
  return `task ${task.id} [${task.status}] "${task.title}"`;
}

function claimedText(claimed: ClaimedTask, verb: string): string {
  const { task, lease } = claimed;
  const lines = [
    `${verb} ${taskLine(task)}`,
    `lease ${lease.id} until ${iso(lease.expiresAt)}`,
    `goal ${task.goalId}; priority ${task.priority}; ` +
      `estimate ${usd(task.estimateUsd)}; attempt ${task.attempts}`,
  ];
  if (task.scope.length > 0) lines.push(`scope: ${task.scope.join(", ")}`);
  if (verb === "Claimed" && task.description) {
    lines.push("", task.description);
  }

  return lines.join("\n");
}

function pointer(section: SectionPointer): string {
  return `- ${section.path}:${section.line} ${section.headingPath}`;
}

function contextText(result: ContextResult): string {
  if (!result.answered) {
    const lines = [`No answer: ${result.reason}`];
    if (result.alternatives.length > 0) {
      lines.push("Nearest sections (too weak to serve):");
      lines.push(...result.alternatives.map(pointer));
    }

    return lines.join("\n");
  }
  const lines = [
    `${result.headingPath} (${result.path}:${result.line}, ` +
      `section ${result.sectionId}, ${result.tokens} tokens` +
      (result.status === "canonical" ? "" : `, ${result.status}`) +
      ")",
    "",
    result.text.trim(),
  ];
  if (result.alternatives.length > 0) {
    lines.push("", "Also:", ...result.alternatives.map(pointer));
  }

  return lines.join("\n");
}

function goalsText(goals: GoalView[]): string {
  if (goals.length === 0) return "No goals.";

  return goals
    .map((goal) => {
      const counts = goal.taskCounts;
      const budget =
        goal.budgetUsd === null
          ? `spent ${usd(goal.spendUsd)}`
          : `spent ${usd(goal.spendUsd)} of ${usd(goal.budgetUsd)}` +
            (goal.overBudget ? " (over budget)" : "");

      return (
        `goal ${goal.id} [${goal.status}] "${goal.title}": ` +
        `${counts.ready} ready, ${counts.claimed + counts.in_progress} ` +
        `held, ${counts.done}/${goal.taskTotal} done; ${budget}`
      );
    })
    .join("\n");
}

function ingestText(result: IngestResult): string {
  const lines = [
    `Accepted ${result.accepted}, duplicate ${result.duplicate}, ` +
      `rejected ${result.rejected}.`,
  ];
  lines.push(
    ...result.rejections.map((r) => `- event #${r.index}: ${r.reason}`),
  );

  return lines.join("\n");
}

// Listed with each event's fields so an agent can write a batch without
// reading the docs; the domain validates item by item, as for HTTP.
const eventsListing = nativeBatchSchema.extend({
  events: z.array(nativeEventSchema).min(1).max(MAX_BATCH_EVENTS),
});

export const mcpTools: McpTool[] = [
  defineTool({
    name: "context_answer",
    description:
      "Answer a question from the project's indexed docs: one section, " +
      "or an honest no-answer. Ask before reading whole documents.",
    input: answerQuestionInput.omit({ project: true }),
    run: async (db, actor, args) =>
      contextText(
        await answerQuestion(db, actor, { ...args, project: actor.projectId }),
      ),
  }),
  defineTool({
    name: "task_claim",
    description:
      "Claim the best ready task (optionally under one goal) and lease it.",
    input: claimInput,
    run: async (db, actor, args) => {
      const claimed = await claimNextTask(db, actor, args);

      return claimed ? claimedText(claimed, "Claimed") : "No task is ready.";
    },
  }),
  defineTool({
    name: "task_heartbeat",
    description: "Extend your lease on a task while you work on it.",
    input: heartbeatInput,
    run: async (db, actor, args) =>
      claimedText(await heartbeat(db, actor, args), "Extended"),
  }),
  defineTool({
    name: "task_complete",
    description: "Mark a task you hold done, with a short result.",
    input: completeInput,
    run: async (db, actor, args) =>
      `Done: ${taskLine((await completeTask(db, actor, args)).task)}`,
  }),
  defineTool({
    name: "task_fail",
    description: "Mark a task you hold failed, saying why.",
    input: failInput,
    run: async (db, actor, args) =>
      `Failed: ${taskLine((await failTask(db, actor, args)).task)}`,
  }),
  defineTool({
    name: "task_release",
    description: "Give a task you hold back, ready for another agent.",
    input: releaseInput,
    run: async (db, actor, args) =>
      `Released: ${taskLine((await releaseTask(db, actor, args)).task)}`,
  }),
  defineTool({
    name: "task_create",
    description: "Create a task (e.g. a subtask) under a goal.",
    input: createTaskInput,
    run: async (db, actor, args) => {
      const task = await createTask(db, actor, args);

      return `Created ${taskLine(task)} under goal ${task.goalId}`;
    },
  }),
  defineTool({
    name: "goals_list",
    description: "The project's goals with task counts, spend and budget.",
    input: listGoalsInput.omit({ project: true }),
    run: async (db, actor, args) =>
      goalsText(
        await listGoals(db, actor, { ...args, project: actor.projectId }),
      ),
  }),
  defineTool({
    name: "events_report",
    description:
      "Report a batch of events (tool calls, model calls with usage); " +
      "replays with the same id are stored once.",
    input: eventsListing,
    parse: false,
    run: async (db, actor, args) =>
      ingestText(await ingestEvents(db, actor, args)),
  }),
];
