import { z, type ZodType } from "zod";
import type { Database } from "@/db/client";
import { invalidInput } from "@/server/errors";
import type { Actor } from "@/server/identity/actor";
import { parseInput } from "@/server/input";
import {
  answerQuestion,
  answerQuestionInput,
  getSection,
  getSectionInput,
  patchNoteSection,
  patchNoteSectionInput,
  readDocument,
  readDocumentInput,
  writeNote,
  writeNoteInput,
  type ContextResult,
  type NoteView,
  type SectionPointer,
} from "@/server/context";
import {
  budgetRemaining,
  budgetRemainingInput,
  type TaskRemaining,
} from "@/server/guardrails/remaining";
import {
  budgetRequestInput,
  requestBudgetIncrease,
} from "@/server/guardrails/approvals";
import {
  acknowledgeDirective,
  acknowledgeDirectiveInput,
  agentDirectives,
  blockTask,
  blockTaskInput,
  checkPaths,
  checkPathsInput,
  claimInput,
  claimTasks,
  completeInput,
  requestReview,
  requestReviewInput,
  completeTask,
  createSubtask,
  createSubtaskInput,
  createTask,
  createTaskInput,
  failInput,
  failTask,
  getPlan,
  heartbeat,
  heartbeatInput,
  listGoals,
  listGoalsInput,
  listMyReservations,
  planIdInput,
  releaseInput,
  releaseReservation,
  releaseReservationInput,
  releaseTask,
  renewReservation,
  renewReservationInput,
  reserveInput,
  reservePaths,
  submitPlan,
  submitPlanInput,
  type AgentNotices,
  type ClaimedTask,
  type GoalView,
  type Hold,
  type PlanDetail,
  type ReservationView,
  type TaskView,
} from "@/server/orchestration";
import { ingestEvents, type IngestResult } from "@/server/observability/ingest";
import {
  MAX_BATCH_EVENTS,
  nativeBatchSchema,
  nativeEventSchema,
} from "@/server/observability/model";
import { describeReadAs } from "@/server/context/read-as";

// The MCP tools: each calls the same domain function as its agent API route,
// validates with the same zod schema, and answers in compact text an agent
// reads cheaply, with the ids it needs for the next call.
//
// Every client pays for the tool listing in tokens at start-up, so only the
// core loop is listed by default: claim, heartbeat, complete, fail, ask the
// docs, plus more_tools (what else exists, by group) and use_tool (call any
// of them). Stateless servers cannot announce a changed list, so a client
// that wants more listed asks for it in the URL: /api/mcp?tools=all, or
// ?tools=plans,reservations for some groups. Every tool can be called by
// name whether it was listed or not.

export type AgentActor = Extract<Actor, { kind: "agent" }>;

export const toolGroups = {
  core: "claim, heartbeat, complete, fail; ask the docs",
  tasks: "release, block, subtasks and tasks, goals",
  context: "read a document or section; write back what you learned",
  plans: "submit a plan for a goal, poll its review",
  reservations: "reserve path globs, renew, release, check paths",
  directives: "operator directives to you: read, acknowledge",
  budget: "spend and budget left on your task and its goal; ask for more",
  events: "report tool and model calls with usage",
} as const;
export type ToolGroup = keyof typeof toolGroups;

export interface McpTool {
  name: string;
  group: ToolGroup;
  description: string;
  /** JSON Schema of the arguments, as listed to clients. */
  inputSchema: { type: "object"; [key: string]: unknown };
  call(db: Database, actor: AgentActor, args: unknown): Promise<string>;
}

interface ToolDefinition<S extends ZodType> {
  name: string;
  group: ToolGroup;
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
    group: definition.group,
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

/** News the domain hands out with a heartbeat or claim (directives not
 * yet delivered, decisions on the agent's plans and approval requests),
 * once each. */
function noticesText(notices: AgentNotices | undefined): string[] {
  if (!notices) return [];
  const lines: string[] = [];
  for (const d of notices.directives) {
    lines.push(
      `Directive ${d.id} [${d.priority}] from ${d.createdBy} ` +
        `(acknowledge with directive_ack): ${d.body}`,
    );
  }
  for (const plan of notices.plans) {
    lines.push(
      `Plan ${plan.id} v${plan.version} for goal ${plan.goalId} is ` +
        `${plan.status}` +
        (plan.reviewComment ? `: ${plan.reviewComment}` : ""),
    );
  }
  for (const approval of notices.approvals) {
    lines.push(
      `Approval ${approval.id} (${approval.title}) is ${approval.status}` +
        (approval.decidedBy ? ` by ${approval.decidedBy}` : "") +
        (approval.comment ? `: ${approval.comment}` : ""),
    );
  }

  return lines.length > 0 ? ["", ...lines] : [];
}

type WithNotices<T> = T & { notices?: AgentNotices };

function claimedText(claimed: WithNotices<ClaimedTask>, verb: string): string {
  const { task, lease } = claimed;
  const lines = [
    `${verb} ${taskLine(task)}`,
    `lease ${lease.id} (fencing token ${lease.fencingToken}) ` +
      `until ${iso(lease.expiresAt)}`,
    `goal ${task.goalId}; priority ${task.priority}; ` +
      `estimate ${usd(task.estimateUsd)}; attempt ${task.attempts}`,
  ];
  if (task.scope.length > 0) lines.push(`scope: ${task.scope.join(", ")}`);
  if (verb === "Claimed" && task.description) {
    lines.push("", task.description);
  }
  if (verb === "Claimed" && task.acceptanceCriteria) {
    lines.push("", `Acceptance: ${task.acceptanceCriteria}`);
  }
  lines.push(...noticesText(claimed.notices));

  return lines.join("\n");
}

function pointer(section: SectionPointer): string {
  return `- ${section.path}:${section.line} ${section.headingPath}`;
}

function contextText(result: ContextResult): string {
  const readAs = describeReadAs(result.readAs);
  if (!result.answered) {
    const lines = [`No answer: ${result.reason}`];
    if (readAs) lines.push(readAs);
    if (result.alternatives.length > 0) {
      lines.push("Nearest sections (too weak to serve):");
      lines.push(...result.alternatives.map(pointer));
    }

    return lines.join("\n");
  }
  // A pointer tier carries no text; a document tier the whole file's.
  const size =
    result.tier === "document"
      ? `whole document, ${result.tokens} tokens`
      : `${result.sectionTokens} tokens`;
  const lines = [
    `${result.headingPath} (${result.path}:${result.line}, ` +
      `section ${result.sectionId}, ${size}` +
      (result.status === "canonical" ? "" : `, ${result.status}`) +
      ")",
  ];
  if (readAs) lines.push(readAs);
  if (result.text.trim()) lines.push("", result.text.trim());
  if (result.alternatives.length > 0) {
    lines.push("", "Also:", ...result.alternatives.map(pointer));
  }

  return lines.join("\n");
}

/** Above this many tokens a document is answered with its outline, each
 * section with the id context_section reads it by. */
const WHOLE_DOCUMENT_TOKENS = 4000;

function documentText(
  document: Awaited<ReturnType<typeof readDocument>>,
  outline: boolean,
): string {
  const header =
    `${document.title} (${document.path}, source ${document.source}` +
    (document.version ? ` ${document.version}` : "") +
    `, ${document.tokens} tokens` +
    (document.status === "canonical"
      ? ""
      : `, ${document.status}: ${document.statusReason ?? ""}`) +
    ")";
  if (outline || document.tokens > WHOLE_DOCUMENT_TOKENS) {
    return [
      header,
      "Sections (read one with context_section):",
      ...document.sections.map(
        (s) =>
          `- section ${s.id} ${s.headingPath} ` +
          `(line ${s.line}, ${s.tokens} tokens)`,
      ),
    ].join("\n");
  }

  return [header, "", ...document.sections.map((s) => s.text.trim())].join(
    "\n\n",
  );
}

function noteLine(document: NoteView): string {
  return (
    `document ${document.id} ${document.path} "${document.title}" ` +
    `[${document.status}], ${document.tokens} tokens`
  );
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

function planText(plan: PlanDetail): string {
  const lines = [
    `Plan ${plan.id} v${plan.version} [${plan.status}] for goal ` +
      `${plan.goalId} "${plan.goalTitle}": ${plan.taskCount} tasks, ` +
      `estimate ${usd(plan.estimateTotalUsd)}`,
  ];
  if (plan.reviewer) {
    lines.push(
      `Reviewed by ${plan.reviewer} at ${iso(plan.reviewedAt)}` +
        (plan.reviewComment ? `: ${plan.reviewComment}` : ""),
    );
  }
  if (plan.latestVersion > plan.version) {
    lines.push(`A newer version exists: v${plan.latestVersion}.`);
  }
  if (plan.diff) {
    const { added, removed, changed } = plan.diff;
    lines.push(
      `Since v${plan.diff.previousVersion}: ${added.length} added, ` +
        `${removed.length} removed, ${changed.length} changed.`,
    );
  }
  for (const task of plan.tasks) {
    lines.push(
      task.taskId
        ? `- ${task.key}: task ${task.taskId} [${task.taskStatus}] "${task.title}"`
        : `- ${task.key}: "${task.title}"`,
    );
  }

  return lines.join("\n");
}

function reservationLine(reservation: ReservationView): string {
  return (
    `reservation ${reservation.id} (${reservation.mode}) ` +
    `${reservation.globs.join(", ")} until ${iso(reservation.expiresAt)}`
  );
}

function holdText(hold: Hold): string {
  const what =
    hold.kind === "task"
      ? `task ${hold.taskId} "${hold.taskTitle ?? ""}"`
      : `${hold.mode} reservation ${hold.reservationId}`;

  return (
    `${what} held by agent ${hold.holder} ` +
    `(${hold.globs.join(", ")}) until ${iso(hold.expiresAt)}`
  );
}

function remainingText(entries: TaskRemaining[]): string {
  if (entries.length === 0) {
    return "You hold no task; pass taskId to see one task's budget.";
  }
  const lines: string[] = [];
  for (const { task, goal } of entries) {
    lines.push(
      `task ${task.id} [${task.status}] "${task.title}": ` +
        `spent ${usd(task.spendUsd)}` +
        (task.remainingUsd === null
          ? ", no estimate"
          : ` of estimate ${usd(task.estimateUsd)}, ` +
            `${usd(task.remainingUsd)} left`),
      `  goal ${goal.id} "${goal.title}": spent ${usd(goal.spendUsd)}` +
        (goal.remainingUsd === null
          ? ", no budget"
          : ` of budget ${usd(goal.budgetUsd)}, ${usd(goal.remainingUsd)} left` +
            (goal.overBudget ? " (over budget: no new claims)" : "")),
    );
  }

  return lines.join("\n");
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

const domainTools: McpTool[] = [
  // core
  defineTool({
    name: "task_claim",
    group: "core",
    description:
      "Claim the best ready task (or up to count), optionally under one " +
      "goal, and lease it; says why tasks were skipped if none was claimed.",
    input: claimInput,
    run: async (db, actor, args) => {
      const result: WithNotices<Awaited<ReturnType<typeof claimTasks>>> =
        await claimTasks(db, actor, args);
      const { claimed, skipped } = result;
      const news = noticesText(result.notices);
      if (claimed.length > 0) {
        return [
          claimed.map((c) => claimedText(c, "Claimed")).join("\n\n"),
          ...news,
        ].join("\n");
      }
      if (skipped.length === 0)
        return ["No task is ready.", ...news].join("\n");

      return [
        "No task claimed. Skipped:",
        ...skipped.map(
          (s) => `- task ${s.taskId} "${s.title}": ${s.reason}: ${s.message}`,
        ),
        ...news,
      ].join("\n");
    },
  }),
  defineTool({
    name: "task_heartbeat",
    group: "core",
    description: "Extend your lease on a task while you work on it.",
    input: heartbeatInput,
    run: async (db, actor, args) =>
      claimedText(await heartbeat(db, actor, args), "Extended"),
  }),
  defineTool({
    name: "task_complete",
    group: "core",
    description: "Mark a task you hold done, with a short result.",
    input: completeInput,
    run: async (db, actor, args) =>
      `Done: ${taskLine((await completeTask(db, actor, args)).task)}`,
  }),
  defineTool({
    name: "task_fail",
    group: "core",
    description: "Mark a task you hold failed, saying why.",
    input: failInput,
    run: async (db, actor, args) =>
      `Failed: ${taskLine((await failTask(db, actor, args)).task)}`,
  }),
  defineTool({
    name: "context_answer",
    group: "core",
    description:
      "Answer a question from the project's indexed docs: one section, " +
      "or an honest no-answer. Ask before reading whole documents. " +
      "tier: pointer (where, no text), section (default) or document.",
    input: answerQuestionInput.omit({ project: true }),
    run: async (db, actor, args) =>
      contextText(
        await answerQuestion(db, actor, { ...args, project: actor.projectId }),
      ),
  }),

  // tasks
  defineTool({
    name: "task_review",
    group: "tasks",
    description:
      "Hand a task you hold in for an operator's review, with a note on " +
      "what was done; your lease ends.",
    input: requestReviewInput,
    run: async (db, actor, args) =>
      `In review: ${taskLine((await requestReview(db, actor, args)).task)}`,
  }),
  defineTool({
    name: "task_release",
    group: "tasks",
    description: "Give a task you hold back, ready for another agent.",
    input: releaseInput,
    run: async (db, actor, args) =>
      `Released: ${taskLine((await releaseTask(db, actor, args)).task)}`,
  }),
  defineTool({
    name: "task_block",
    group: "tasks",
    description:
      "Block a task you hold (e.g. on a scope conflict): your lease ends " +
      "and operators get an escalation to resolve.",
    input: blockTaskInput,
    run: async (db, actor, args) => {
      const { task, escalation } = await blockTask(db, actor, args);

      return (
        `Blocked: ${taskLine(task)}; escalation ${escalation.id} ` +
        `(${escalation.kind}) sent to ${escalation.recipients} people`
      );
    },
  }),
  defineTool({
    name: "task_subtask",
    group: "tasks",
    description:
      "Split work off a task into a new task under the same goal; its " +
      "description names the parent.",
    input: createSubtaskInput,
    run: async (db, actor, args) => {
      const { task, parent } = await createSubtask(db, actor, args);

      return `Created ${taskLine(task)} under goal ${task.goalId}, subtask of task ${parent.id}`;
    },
  }),
  defineTool({
    name: "task_create",
    group: "tasks",
    description: "Create a task under a goal.",
    input: createTaskInput,
    run: async (db, actor, args) => {
      const task = await createTask(db, actor, args);

      return `Created ${taskLine(task)} under goal ${task.goalId}`;
    },
  }),
  defineTool({
    name: "goals_list",
    group: "tasks",
    description: "The project's goals with task counts, spend and budget.",
    input: listGoalsInput.omit({ project: true }),
    run: async (db, actor, args) =>
      goalsText(
        await listGoals(db, actor, { ...args, project: actor.projectId }),
      ),
  }),

  // context
  defineTool({
    name: "context_document",
    group: "context",
    description:
      "Read an indexed document by path: whole when short, else its " +
      "outline with section ids.",
    input: readDocumentInput
      .omit({ project: true })
      .extend({ outline: z.boolean().optional() }),
    run: async (db, actor, { outline, ...args }) =>
      documentText(
        await readDocument(db, actor, { ...args, project: actor.projectId }),
        outline ?? false,
      ),
  }),
  defineTool({
    name: "context_section",
    group: "context",
    description: "Read one section of the indexed docs by its id.",
    input: getSectionInput.omit({ project: true }),
    run: async (db, actor, args) => {
      const section = await getSection(db, actor, {
        ...args,
        project: actor.projectId,
      });

      return [
        `${section.headingPath} (${section.path}:${section.line}, ` +
          `section ${section.id}, ${section.tokens} tokens` +
          (section.status === "canonical" ? "" : `, ${section.status}`) +
          ")",
        "",
        section.text.trim(),
      ].join("\n");
    },
  }),

  defineTool({
    name: "context_write",
    group: "context",
    description:
      "Write back what you learned (kind decision|runbook|note) as the " +
      "document of a topic; refused with a pointer when the topic has " +
      "one, unless supersedes names it (id or topic); supersedes must " +
      "name a document of the same topic.",
    input: writeNoteInput.omit({ project: true }),
    run: async (db, actor, args) => {
      const { document, superseded } = await writeNote(db, actor, {
        ...args,
        project: actor.projectId,
      });

      return (
        `Wrote ${noteLine(document)}` +
        (superseded
          ? `; superseded document ${superseded.id} ${superseded.path}`
          : "")
      );
    },
  }),
  defineTool({
    name: "context_patch",
    group: "context",
    description:
      "Replace the body of one section of a document you wrote, named by " +
      "its heading or heading path (A > B); the old text is kept.",
    input: patchNoteSectionInput.omit({ project: true }),
    run: async (db, actor, args) => {
      const result = await patchNoteSection(db, actor, {
        ...args,
        project: actor.projectId,
      });

      return result.changed
        ? `Patched ${result.heading} (version ${result.version}) of ` +
            noteLine(result.document)
        : `Unchanged: ${result.heading} already has that body`;
    },
  }),

  // plans
  defineTool({
    name: "plan_submit",
    group: "plans",
    description:
      "Submit a plan for a goal: tasks with keys, scopes and dependsOn " +
      "(other keys). Approved at once when the goal needs no review.",
    input: submitPlanInput,
    run: async (db, actor, args) => planText(await submitPlan(db, actor, args)),
  }),
  defineTool({
    name: "plan_status",
    group: "plans",
    description:
      "A plan's status, the reviewer's comment and, once approved, its " +
      "task ids.",
    input: planIdInput,
    run: async (db, actor, args) => planText(await getPlan(db, actor, args)),
  }),

  // reservations
  defineTool({
    name: "reservation_create",
    group: "reservations",
    description:
      "Reserve path globs for a while (exclusive or shared); refused with " +
      "the conflicting holds and holders.",
    input: reserveInput,
    run: async (db, actor, args) => {
      const result = await reservePaths(db, actor, args);
      if (result.granted) {
        return `Reserved: ${reservationLine(result.reservation)}`;
      }

      return [
        `Not reserved: ${result.message}`,
        ...result.conflicts.map((hold) => `- ${holdText(hold)}`),
      ].join("\n");
    },
  }),
  defineTool({
    name: "reservation_renew",
    group: "reservations",
    description: "Extend a live reservation of yours.",
    input: renewReservationInput,
    run: async (db, actor, args) =>
      `Renewed: ${reservationLine(
        (await renewReservation(db, actor, args)).reservation,
      )}`,
  }),
  defineTool({
    name: "reservation_release",
    group: "reservations",
    description: "End a live reservation of yours now.",
    input: releaseReservationInput,
    run: async (db, actor, args) => {
      const { reservation } = await releaseReservation(db, actor, args);

      return `Released reservation ${reservation.id}`;
    },
  }),
  defineTool({
    name: "reservation_check",
    group: "reservations",
    description:
      "Whether other agents hold concrete file paths, and who; also lists " +
      "your own live reservations.",
    input: checkPathsInput,
    run: async (db, actor, args) => {
      const [{ paths }, { reservations }] = await Promise.all([
        checkPaths(db, actor, args),
        listMyReservations(db, actor),
      ]);
      const lines = paths.map((check) =>
        check.held
          ? `${check.path}: held by ${check.holds
              .map((hold) => `${holdText(hold)} via ${hold.matched}`)
              .join("; ")}`
          : `${check.path}: free`,
      );
      lines.push(
        reservations.length === 0
          ? "You hold no reservations."
          : `Yours: ${reservations.map(reservationLine).join("; ")}`,
      );

      return lines.join("\n");
    },
  }),

  // directives
  defineTool({
    name: "directives_read",
    group: "directives",
    description:
      "Directives operators sent you that are not acknowledged yet, most " +
      "urgent first.",
    input: z.object({}),
    run: async (db, actor) => {
      const { directives } = await agentDirectives(db, actor);
      if (directives.length === 0) return "No directives.";
      const lines = directives.map(
        (d) =>
          `directive ${d.id} [${d.priority}] from ${d.createdBy} at ` +
          `${iso(d.createdAt)}` +
          (d.expiresAt ? `, expires ${iso(d.expiresAt)}` : "") +
          `:\n${d.body}`,
      );
      lines.push("Acknowledge each with directive_ack.");

      return lines.join("\n\n");
    },
  }),
  defineTool({
    name: "directive_ack",
    group: "directives",
    description: "Acknowledge a directive sent to you, with an optional note.",
    input: acknowledgeDirectiveInput,
    run: async (db, actor, args) => {
      const { directive } = await acknowledgeDirective(db, actor, args);

      return (
        `Acknowledged directive ${directive.id} at ` +
        iso(directive.acknowledgedAt)
      );
    },
  }),

  // budget
  defineTool({
    name: "budget_remaining",
    group: "budget",
    description:
      "Spend and budget left on a task (default: the tasks you hold) and " +
      "its goal.",
    input: budgetRemainingInput,
    run: async (db, actor, args) =>
      remainingText((await budgetRemaining(db, actor, args)).tasks),
  }),
  defineTool({
    name: "budget_request",
    group: "budget",
    description:
      "Ask a person to raise a goal's budget by amountUsd, saying why; " +
      "the decision comes with your next claim or heartbeat.",
    input: budgetRequestInput,
    run: async (db, actor, args) => {
      const { approval, created } = await requestBudgetIncrease(
        db,
        actor,
        args,
      );

      return (
        `${created ? "Requested" : "Already pending"}: approval ` +
        `${approval.id} (${approval.title}), ${approval.status}`
      );
    },
  }),

  // events
  defineTool({
    name: "events_report",
    group: "events",
    description:
      "Report a batch of events (tool calls, model calls with usage); " +
      "replays with the same id are stored once.",
    input: eventsListing,
    parse: false,
    run: async (db, actor, args) =>
      ingestText(await ingestEvents(db, actor, args)),
  }),
];

const byName = new Map(domainTools.map((tool) => [tool.name, tool]));
const groupNames = Object.keys(toolGroups) as ToolGroup[];

/** One argument list in a line, e.g. "taskId: uuid, note?: string". */
function signature(schema: unknown, depth = 0): string {
  const node = (schema ?? {}) as Record<string, unknown>;
  if (Array.isArray(node.enum)) return node.enum.join("|");
  if (Array.isArray(node.anyOf)) {
    return node.anyOf.map((s) => signature(s, depth)).join("|");
  }
  if (node.type === "array") return `${signature(node.items, depth)}[]`;
  if (node.type === "object" && node.properties && depth < 3) {
    const required = new Set((node.required as string[] | undefined) ?? []);
    const fields = Object.entries(
      node.properties as Record<string, unknown>,
    ).map(
      ([key, value]) =>
        `${key}${required.has(key) ? "" : "?"}: ${signature(value, depth + 1)}`,
    );

    return `{${fields.join(", ")}}`;
  }
  if (typeof node.format === "string") return node.format;

  return typeof node.type === "string" ? node.type : "any";
}

const moreToolsInput = z
  .object({ group: z.enum(groupNames).optional() })
  .strict();

const useToolInput = z
  .object({
    name: z.string().trim().min(1, "Name the tool"),
    arguments: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

const metaTools: McpTool[] = [
  defineTool({
    name: "more_tools",
    group: "core",
    description:
      "Flotilla's other tools by group (tasks, context, plans, " +
      "reservations, directives, budget, events); with a group, each " +
      "tool's arguments. Call them with use_tool.",
    input: moreToolsInput,
    run: async (_db, _actor, { group }) => {
      if (group) {
        return domainTools
          .filter((tool) => tool.group === group)
          .map(
            (tool) =>
              `${tool.name} ${signature(tool.inputSchema)}\n  ${tool.description}`,
          )
          .join("\n");
      }
      const lines = groupNames.map((name) => {
        const names = domainTools
          .filter((tool) => tool.group === name)
          .map((tool) => tool.name);

        return `${name}: ${names.join(", ")} (${toolGroups[name]})`;
      });
      lines.push(
        "",
        "more_tools {group} shows a group's arguments; use_tool {name, " +
          "arguments} calls any tool. To have groups listed as tools, " +
          "connect to this server's URL with ?tools=<group,...> or ?tools=all.",
      );

      return lines.join("\n");
    },
  }),
  defineTool({
    name: "use_tool",
    group: "core",
    description:
      "Call any Flotilla tool by name, listed or not (see more_tools).",
    input: useToolInput,
    run: async (db, actor, args) => {
      const tool = byName.get(args.name);
      if (!tool) {
        throw invalidInput(
          `Invalid arguments: name: Unknown tool ${args.name}; more_tools ` +
            "lists them",
          [{ path: "name", message: `Unknown tool ${args.name}` }],
        );
      }

      return tool.call(db, actor, args.arguments);
    },
  }),
];

/** Every tool, meta tools included. */
export const mcpTools: McpTool[] = [...domainTools, ...metaTools];

const toolsByName = new Map(mcpTools.map((tool) => [tool.name, tool]));

export function findTool(name: string): McpTool | undefined {
  return toolsByName.get(name);
}

/**
 * The tools to list for the `tools` URL parameter: the core ones by
 * default; "all" for every one; or core plus the named groups, comma
 * separated ("plans,reservations"). Unknown group names are ignored.
 */
export function listedTools(selection: string | null): McpTool[] {
  const asked = new Set(
    (selection ?? "")
      .split(",")
      .map((part) => part.trim().toLowerCase())
      .filter(Boolean),
  );
  if (asked.has("all")) return mcpTools;

  return mcpTools.filter(
    (tool) => tool.group === "core" || asked.has(tool.group),
  );
}
