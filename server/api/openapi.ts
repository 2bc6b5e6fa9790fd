import { z, type ZodType } from "zod";
import type { RouteContract } from "@/server/api/http";
import { queryDefaults } from "@/server/api/query";
import { errorTable } from "@/server/errors";
import {
  MAX_BATCH_EVENTS,
  nativeBatchSchema,
  nativeEventSchema,
} from "@/server/observability/model";
import * as contextRoute from "@/app/api/agent/v1/context/route";
import * as contextDocsRoute from "@/app/api/agent/v1/context/docs/route";
import * as contextDocRoute from "@/app/api/agent/v1/context/docs/[id]/route";
import * as contextDocSectionsRoute from "@/app/api/agent/v1/context/docs/[id]/sections/route";
import * as contextDocRestoreRoute from "@/app/api/agent/v1/context/docs/[id]/restore/route";
import * as eventsRoute from "@/app/api/agent/v1/events/route";
import * as goalsRoute from "@/app/api/agent/v1/goals/route";
import * as goalPlansRoute from "@/app/api/agent/v1/goals/[id]/plans/route";
import * as planRoute from "@/app/api/agent/v1/plans/[id]/route";
import * as approvalRoute from "@/app/api/agent/v1/approvals/[id]/route";
import * as approvalsListRoute from "@/app/api/agent/v1/approvals/route";
import * as budgetRequestsRoute from "@/app/api/agent/v1/budget-requests/route";
import * as claudeCodeHookRoute from "@/app/api/agent/v1/hooks/claude-code/route";
import * as completeRoute from "@/app/api/agent/v1/tasks/[id]/complete/route";
import * as reviewRoute from "@/app/api/agent/v1/tasks/[id]/review/route";
import * as dependenciesRoute from "@/app/api/agent/v1/tasks/[id]/dependencies/route";
import * as failRoute from "@/app/api/agent/v1/tasks/[id]/fail/route";
import * as heartbeatRoute from "@/app/api/agent/v1/tasks/[id]/heartbeat/route";
import * as releaseRoute from "@/app/api/agent/v1/tasks/[id]/release/route";
import * as claimRoute from "@/app/api/agent/v1/tasks/claim/route";
import * as tasksRoute from "@/app/api/agent/v1/tasks/route";
import * as blockRoute from "@/app/api/agent/v1/tasks/[id]/block/route";
import * as directivesRoute from "@/app/api/agent/v1/directives/route";
import * as directiveAckRoute from "@/app/api/agent/v1/directives/[id]/ack/route";
import * as reservationsRoute from "@/app/api/agent/v1/reservations/route";
import * as reservationCheckRoute from "@/app/api/agent/v1/reservations/check/route";
import * as reservationReleaseRoute from "@/app/api/agent/v1/reservations/[id]/release/route";
import * as reservationRenewRoute from "@/app/api/agent/v1/reservations/[id]/renew/route";
import * as sessionRoute from "@/app/api/v1/projects/[slug]/sessions/[id]/route";
import * as spendRoute from "@/app/api/v1/projects/[slug]/spend/route";
import * as projectAgentsRoute from "@/app/api/v1/projects/[slug]/agents/route";
import * as projectGoalsRoute from "@/app/api/v1/projects/[slug]/goals/route";

// The OpenAPI 3.1 document of the agent API and the read API. Request
// bodies and query parameters are generated from the zod schemas each route
// validates with (kept on the handler by agentRoute/personRoute), so the
// document cannot drift from what the server accepts. Responses have no zod
// schemas yet, so they are described objects.

type JsonSchema = Record<string, unknown>;
type Method = "get" | "post" | "put" | "patch" | "delete";

interface Handler {
  contract: RouteContract;
}

interface OperationSpec {
  path: string;
  method: Method;
  handler: Handler;
  operationId: string;
  tag:
    | "Tasks"
    | "Directives"
    | "Reservations"
    | "Goals"
    | "Plans"
    | "Approvals"
    | "Context"
    | "Events"
    | "Read API"
    | "People API";
  summary: string;
  /** The success status and what it carries. */
  success: { status: number; description: string; schema?: JsonSchema }[];
  /** Errors this route raises beyond those every route can. */
  errors?: number[];
  /** Shown instead of the route's own body schema when the route takes
   * any JSON and its domain function validates it (events, hooks). */
  documentedBody?: { name: string; schema: ZodType | JsonSchema };
  bodyName?: string;
}

const task: JsonSchema = {
  type: "object",
  description:
    "A task: id, goalId, title, description, priority, scope, status, " +
    "holder, leaseExpiresAt, leaseVersion, attempts, result, timestamps",
};
const taskAndLease: JsonSchema = {
  type: "object",
  description: "The task and the caller's lease on it (lease.id, expiresAt)",
  properties: { task, lease: { type: "object" } },
};
const notices: JsonSchema = {
  type: "object",
  description:
    "News for the agent, each item handed out once: directives (id, body, " +
    "priority, expiresAt, createdBy, createdAt) it has not been given yet, " +
    "plans (id, goalId, version, status, reviewComment, reviewedAt) it " +
    "wrote whose review decision it has not been told of, and approvals " +
    "(id, kind, title, status, comment, decidedBy, decidedAt) of its tool " +
    "calls and budget requests that were decided",
  properties: {
    directives: { type: "array", items: { type: "object" } },
    plans: { type: "array", items: { type: "object" } },
    approvals: { type: "array", items: { type: "object" } },
  },
};
const claimAnswer: JsonSchema = {
  type: "object",
  description:
    "task and lease: the first claim, null when nothing could be claimed; " +
    "claimed: every claim ({task, lease}); skipped: why ready tasks were " +
    "not claimable ({taskId, title, reason, message}) when nothing was",
  properties: {
    task: { ...task, type: ["object", "null"] },
    lease: { type: ["object", "null"] },
    claimed: { type: "array", items: taskAndLease },
    notices,
    skipped: { type: "array", items: { type: "object" } },
  },
};
const taskOnly: JsonSchema = { type: "object", properties: { task } };

const noteDocument: JsonSchema = {
  type: "object",
  description:
    "A context document: id, source, version, path, title, topic, kind, " +
    "status, statusReason, canonicalDocumentId, deleted, deletedAt, tokens",
};

const reservation: JsonSchema = {
  type: "object",
  description:
    "A reservation: id, agent {id, name}, globs, mode (exclusive | " +
    "shared), reason, ttlSeconds, createdAt, expiresAt, releasedAt",
};
const hold: JsonSchema = {
  type: "object",
  description:
    "Another agent's hold: kind (task | reservation), holder (the agent's " +
    "name), holderAgentId, taskId and taskTitle or reservationId, globs, " +
    "mode, expiresAt",
};
const reservationOnly: JsonSchema = {
  type: "object",
  properties: { reservation },
};

// Claude Code's hook payload is its own format, read by the domain.
const claudeCodeHookBody: JsonSchema = {
  type: "object",
  description:
    "A Claude Code hook payload (hook_event_name, session_id, tool_name, " +
    "tool_input, transcript_path, ...), as Claude Code sends it",
};

// The events route accepts any JSON and validates the batch item by item;
// this is that batch with its items spelled out.
const documentedEventBatch = nativeBatchSchema.extend({
  events: z.array(nativeEventSchema).min(1).max(MAX_BATCH_EVENTS),
});

const operations: OperationSpec[] = [
  {
    path: "/api/agent/v1/tasks/claim",
    method: "post",
    handler: claimRoute.POST,
    operationId: "claimTask",
    tag: "Tasks",
    summary:
      "Claim the best ready task (or up to `count`), optionally of one goal",
    bodyName: "ClaimInput",
    success: [
      { status: 200, description: "What was claimed", schema: claimAnswer },
    ],
    errors: [403, 404],
  },
  {
    path: "/api/agent/v1/tasks/{id}/heartbeat",
    method: "post",
    handler: heartbeatRoute.POST,
    operationId: "heartbeat",
    tag: "Tasks",
    summary: "Extend the caller's lease on the task",
    bodyName: "HeartbeatInput",
    success: [
      {
        status: 200,
        description: "The renewed lease, with notices for the agent",
        schema: {
          ...taskAndLease,
          properties: { task, lease: { type: "object" }, notices },
        },
      },
    ],
    errors: [404, 409],
  },
  {
    path: "/api/agent/v1/tasks/{id}/complete",
    method: "post",
    handler: completeRoute.POST,
    operationId: "completeTask",
    tag: "Tasks",
    summary: "Mark the held task done",
    bodyName: "CompleteInput",
    success: [{ status: 200, description: "The task", schema: taskOnly }],
    errors: [404, 409],
  },
  {
    path: "/api/agent/v1/tasks/{id}/review",
    method: "post",
    handler: reviewRoute.POST,
    operationId: "requestReview",
    tag: "Tasks",
    summary: "Hand the held task in for an operator's review",
    bodyName: "RequestReviewInput",
    success: [{ status: 200, description: "The task", schema: taskOnly }],
    errors: [404, 409],
  },
  {
    path: "/api/agent/v1/tasks/{id}/fail",
    method: "post",
    handler: failRoute.POST,
    operationId: "failTask",
    tag: "Tasks",
    summary: "Mark the held task failed, with the reason",
    bodyName: "FailInput",
    success: [{ status: 200, description: "The task", schema: taskOnly }],
    errors: [404, 409],
  },
  {
    path: "/api/agent/v1/tasks/{id}/release",
    method: "post",
    handler: releaseRoute.POST,
    operationId: "releaseTask",
    tag: "Tasks",
    summary: "Give the held task back so another agent can claim it",
    bodyName: "ReleaseInput",
    success: [{ status: 200, description: "The task", schema: taskOnly }],
    errors: [404, 409],
  },
  {
    path: "/api/agent/v1/tasks/{id}/dependencies",
    method: "put",
    handler: dependenciesRoute.PUT,
    operationId: "setTaskDependencies",
    tag: "Tasks",
    summary: "Replace the tasks this task depends on",
    bodyName: "SetDependenciesInput",
    success: [{ status: 200, description: "The task", schema: taskOnly }],
    errors: [404, 409],
  },
  {
    path: "/api/agent/v1/tasks",
    method: "post",
    handler: tasksRoute.POST,
    operationId: "createTask",
    tag: "Tasks",
    summary: "Create a task under a goal of the agent's project",
    bodyName: "CreateTaskInput",
    success: [{ status: 201, description: "The new task", schema: taskOnly }],
    errors: [404, 409],
  },
  {
    path: "/api/agent/v1/reservations",
    method: "post",
    handler: reservationsRoute.POST,
    operationId: "reservePaths",
    tag: "Reservations",
    summary: "Reserve path globs, exclusive or shared, for a while",
    bodyName: "ReserveInput",
    success: [
      {
        status: 200,
        description:
          "granted: true with the reservation, or granted: false with the " +
          "conflicting holds of other agents (nothing is reserved then)",
        schema: {
          type: "object",
          required: ["granted", "reservation", "conflicts"],
          properties: {
            granted: { type: "boolean" },
            reservation: { ...reservation, type: ["object", "null"] },
            conflicts: { type: "array", items: hold },
            message: { type: "string" },
          },
        },
      },
    ],
  },
  {
    path: "/api/agent/v1/reservations",
    method: "get",
    handler: reservationsRoute.GET,
    operationId: "listReservations",
    tag: "Reservations",
    summary: "The calling agent's live reservations",
    success: [
      {
        status: 200,
        description: "The reservations, soonest to expire first",
        schema: {
          type: "object",
          properties: {
            reservations: { type: "array", items: reservation },
          },
        },
      },
    ],
  },
  {
    path: "/api/agent/v1/reservations/{id}/renew",
    method: "post",
    handler: reservationRenewRoute.POST,
    operationId: "renewReservation",
    tag: "Reservations",
    summary: "Extend the caller's live reservation",
    bodyName: "RenewReservationInput",
    success: [
      {
        status: 200,
        description: "The renewed reservation",
        schema: reservationOnly,
      },
    ],
    errors: [404, 409],
  },
  {
    path: "/api/agent/v1/reservations/{id}/release",
    method: "post",
    handler: reservationReleaseRoute.POST,
    operationId: "releaseReservation",
    tag: "Reservations",
    summary: "End the caller's live reservation",
    bodyName: "ReleaseReservationInput",
    success: [
      {
        status: 200,
        description: "released: true and the released reservation",
        schema: {
          type: "object",
          properties: { released: { const: true }, reservation },
        },
      },
    ],
    errors: [404, 409],
  },
  {
    path: "/api/agent/v1/reservations/check",
    method: "get",
    handler: reservationCheckRoute.GET,
    operationId: "checkPaths",
    tag: "Reservations",
    summary: "Whether other agents hold concrete paths (?path=a&path=b)",
    success: [
      {
        status: 200,
        description:
          "For each path: held, and the holds of other agents whose globs " +
          "match it (with the matched glob)",
        schema: {
          type: "object",
          properties: {
            paths: {
              type: "array",
              items: {
                type: "object",
                properties: {
                  path: { type: "string" },
                  held: { type: "boolean" },
                  holds: { type: "array", items: hold },
                },
              },
            },
          },
        },
      },
    ],
  },
  {
    path: "/api/agent/v1/tasks/{id}/block",
    method: "post",
    handler: blockRoute.POST,
    operationId: "blockTask",
    tag: "Tasks",
    summary:
      "Block the held task on a conflict; ends the lease and raises an " +
      "escalation for the operators",
    bodyName: "BlockTaskInput",
    success: [
      {
        status: 200,
        description:
          "The blocked task and the escalation (id, kind: blocked or " +
          "scope_conflict, recipients: how many people were told)",
        schema: {
          type: "object",
          properties: { task, escalation: { type: "object" } },
        },
      },
    ],
    errors: [404, 409],
  },
  {
    path: "/api/agent/v1/directives",
    method: "get",
    handler: directivesRoute.GET,
    operationId: "listDirectives",
    tag: "Directives",
    summary:
      "The caller's directives not yet acknowledged, cancelled or expired; " +
      "reading marks them delivered",
    success: [
      {
        status: 200,
        description:
          "directives: id, body, priority, expiresAt, createdBy, createdAt; " +
          "most urgent first",
        schema: {
          type: "object",
          properties: {
            directives: { type: "array", items: { type: "object" } },
          },
        },
      },
    ],
  },
  {
    path: "/api/agent/v1/directives/{id}/ack",
    method: "post",
    handler: directiveAckRoute.POST,
    operationId: "acknowledgeDirective",
    tag: "Directives",
    summary: "Acknowledge a directive addressed to the caller, with a note",
    bodyName: "AcknowledgeDirectiveInput",
    success: [
      {
        status: 200,
        description: "The acknowledged directive",
        schema: {
          type: "object",
          properties: { directive: { type: "object" } },
        },
      },
    ],
    errors: [404, 409],
  },
  {
    path: "/api/agent/v1/goals",
    method: "get",
    handler: goalsRoute.GET,
    operationId: "listGoals",
    tag: "Goals",
    summary: "The goals of the agent's project, with counts and spend",
    success: [
      {
        status: 200,
        description: "The goals",
        schema: {
          type: "object",
          properties: {
            goals: {
              type: "array",
              items: {
                type: "object",
                description:
                  "A goal: id, title, description, status, budgetUsd, " +
                  "spendUsd, overBudget, taskCounts, taskTotal",
              },
            },
          },
        },
      },
    ],
  },
  {
    path: "/api/agent/v1/goals/{id}/plans",
    method: "post",
    handler: goalPlansRoute.POST,
    operationId: "submitPlan",
    tag: "Plans",
    summary: "Submit a plan of tasks for a goal",
    bodyName: "SubmitPlanInput",
    success: [
      {
        status: 201,
        description:
          "The plan; already approved, with task ids, when the goal needs " +
          "no approval",
        schema: { type: "object", properties: { plan: { type: "object" } } },
      },
    ],
    errors: [404, 409],
  },
  {
    path: "/api/agent/v1/plans/{id}",
    method: "get",
    handler: planRoute.GET,
    operationId: "getPlan",
    tag: "Plans",
    summary: "A plan's status, review comment and created task ids",
    success: [
      {
        status: 200,
        description: "The plan",
        schema: { type: "object", properties: { plan: { type: "object" } } },
      },
    ],
    errors: [404],
  },
  {
    path: "/api/agent/v1/approvals",
    method: "get",
    handler: approvalsListRoute.GET,
    operationId: "listMyApprovals",
    tag: "Approvals",
    summary:
      "Your own approval requests, pending first; ?status=, ?kind=, ?limit=",
    success: [
      {
        status: 200,
        description: "The approvals this agent asked for, pending first",
        schema: {
          type: "object",
          properties: {
            approvals: { type: "array", items: { type: "object" } },
          },
        },
      },
    ],
    errors: [400],
  },
  {
    path: "/api/agent/v1/approvals/{id}",
    method: "get",
    handler: approvalRoute.GET,
    operationId: "getApproval",
    tag: "Approvals",
    summary:
      "One of your approval requests; ?wait=N waits up to N s for a decision",
    success: [
      {
        status: 200,
        description:
          "The approval: id, kind, status (pending | approved | denied | " +
          "expired | cancelled), title, reason, decidedBy, comment",
        schema: {
          type: "object",
          properties: { approval: { type: "object" } },
        },
      },
    ],
    errors: [404],
  },
  {
    path: "/api/agent/v1/budget-requests",
    method: "post",
    handler: budgetRequestsRoute.POST,
    operationId: "requestBudgetIncrease",
    tag: "Approvals",
    summary: "Ask a person to raise a goal's budget",
    bodyName: "BudgetRequestInput",
    success: [
      {
        status: 201,
        description: "The pending approval",
        schema: {
          type: "object",
          properties: { approval: { type: "object" } },
        },
      },
      {
        status: 200,
        description: "The approval already pending for the same amount",
        schema: {
          type: "object",
          properties: { approval: { type: "object" } },
        },
      },
    ],
    errors: [404],
  },
  {
    path: "/api/agent/v1/context",
    method: "get",
    handler: contextRoute.GET,
    operationId: "answerQuestion",
    tag: "Context",
    summary: "The section of the project's docs that answers a question",
    success: [
      {
        status: 200,
        description:
          "An answer (answered: true, with the section and alternatives) " +
          "or an explicit no-answer (answered: false, with the reason)",
        schema: {
          type: "object",
          required: ["answered", "question"],
          properties: {
            answered: { type: "boolean" },
            question: { type: "string" },
          },
        },
      },
    ],
  },
  {
    path: "/api/agent/v1/context/docs",
    method: "post",
    handler: contextDocsRoute.POST,
    operationId: "writeNote",
    tag: "Context",
    summary: "Write back a decision, runbook or note as a topic's document",
    bodyName: "WriteNoteInput",
    success: [
      {
        status: 201,
        description:
          "The new canonical document, and the one it superseded if any",
        schema: {
          type: "object",
          properties: {
            document: noteDocument,
            superseded: { type: ["object", "null"] },
          },
        },
      },
    ],
    errors: [404, 409],
  },
  {
    path: "/api/agent/v1/context/docs/{id}",
    method: "get",
    handler: contextDocRoute.GET,
    operationId: "getNote",
    tag: "Context",
    summary: "A document with its sections and versions",
    success: [
      {
        status: 200,
        description:
          "The document, its sections, its versions (number, change, " +
          "text, author) and its topic's other documents",
        schema: noteDocument,
      },
    ],
    errors: [404],
  },
  {
    path: "/api/agent/v1/context/docs/{id}",
    method: "delete",
    handler: contextDocRoute.DELETE,
    operationId: "deleteNote",
    tag: "Context",
    summary: "Soft-delete an agent-written document",
    success: [
      {
        status: 200,
        description: "The document, marked deleted",
        schema: { type: "object", properties: { document: noteDocument } },
      },
    ],
    errors: [404, 409],
  },
  {
    path: "/api/agent/v1/context/docs/{id}/restore",
    method: "post",
    handler: contextDocRestoreRoute.POST,
    operationId: "restoreNote",
    tag: "Context",
    summary: "Bring a deleted agent-written document back",
    success: [
      {
        status: 200,
        description: "The document, no longer deleted",
        schema: { type: "object", properties: { document: noteDocument } },
      },
    ],
    errors: [404, 409],
  },
  {
    path: "/api/agent/v1/context/docs/{id}/sections",
    method: "patch",
    handler: contextDocSectionsRoute.PATCH,
    operationId: "patchNoteSection",
    tag: "Context",
    summary: "Replace one section's body, found by its heading",
    bodyName: "PatchNoteSectionInput",
    success: [
      {
        status: 200,
        description:
          "The document, the heading path patched, the new version number " +
          "and whether the text changed",
        schema: {
          type: "object",
          properties: {
            document: noteDocument,
            heading: { type: "string" },
            version: { type: "integer" },
            changed: { type: "boolean" },
          },
        },
      },
    ],
    errors: [404, 409],
  },
  {
    path: "/api/agent/v1/events",
    method: "post",
    handler: eventsRoute.POST,
    operationId: "reportEvents",
    tag: "Events",
    summary: "Report a batch of native events (at most 1,000 or 1 MiB)",
    documentedBody: { name: "EventBatch", schema: documentedEventBatch },
    success: [
      {
        status: 200,
        description: "What was stored; bad items are rejected one by one",
        schema: {
          type: "object",
          properties: {
            accepted: { type: "integer" },
            duplicate: { type: "integer" },
            rejected: { type: "integer" },
            rejections: {
              type: "array",
              items: {
                type: "object",
                properties: {
                  index: { type: "integer" },
                  reason: { type: "string" },
                },
              },
            },
          },
        },
      },
    ],
  },
  {
    path: "/api/agent/v1/hooks/claude-code",
    method: "post",
    handler: claudeCodeHookRoute.POST,
    operationId: "claudeCodeHook",
    tag: "Events",
    summary: "Receive a Claude Code HTTP hook",
    documentedBody: { name: "ClaudeCodeHook", schema: claudeCodeHookBody },
    success: [
      {
        status: 200,
        description:
          "What Claude Code reads: a permission decision for PreToolUse, " +
          "an empty object otherwise",
        schema: { type: "object" },
      },
    ],
  },
  {
    path: "/api/v1/projects/{slug}/spend",
    method: "get",
    handler: spendRoute.GET,
    operationId: "projectSpend",
    tag: "Read API",
    summary: "Spend of a project, grouped by one or two dimensions",
    success: [
      {
        status: 200,
        description: "The spend report (JSON), or CSV with format=csv",
        schema: {
          type: "object",
          description: "project, from, to, groupBy, rows and totals",
        },
      },
    ],
    errors: [404],
  },
  {
    path: "/api/v1/projects/{slug}/sessions/{id}",
    method: "get",
    handler: sessionRoute.GET,
    operationId: "getSession",
    tag: "Read API",
    summary: "One agent session with its events",
    success: [
      {
        status: 200,
        description: "The session, its totals and its events",
        schema: { type: "object", description: "session and events" },
      },
    ],
    errors: [404],
  },
  {
    path: "/api/v1/projects/{slug}/agents",
    method: "post",
    handler: projectAgentsRoute.POST,
    operationId: "createAgent",
    tag: "People API",
    summary: "Create an agent with its first token (project admins)",
    bodyName: "CreateAgentInput",
    success: [
      {
        status: 201,
        description: "The agent, its token and the token's secret (shown once)",
        schema: {
          type: "object",
          description:
            "agent (id, name, status, capabilities, ...), token (id, " +
            "prefix, name, expiresAt) and secret",
          properties: {
            agent: { type: "object" },
            token: { type: "object" },
            secret: { type: "string" },
          },
        },
      },
    ],
    errors: [404, 409],
  },
  {
    path: "/api/v1/projects/{slug}/goals",
    method: "post",
    handler: projectGoalsRoute.POST,
    operationId: "createGoal",
    tag: "People API",
    summary: "Create a goal (operators and above)",
    bodyName: "CreateGoalInput",
    success: [
      {
        status: 201,
        description: "The goal with its counts and spend",
        schema: { type: "object", properties: { goal: { type: "object" } } },
      },
    ],
    errors: [404],
  },
];

/** Converts a zod schema to the JSON Schema of what a client sends. */
function inputSchema(schema: ZodType | JsonSchema): JsonSchema {
  if (!(schema instanceof z.ZodType)) return schema;
  const json = z.toJSONSchema(schema, {
    io: "input",
    target: "draft-2020-12",
    // A refine or transform is checked by the server; the document shows
    // the shape around it.
    unrepresentable: "any",
    override: ({ zodSchema, jsonSchema }) => {
      const fallback = queryDefaults.get(zodSchema);
      if (fallback !== undefined) jsonSchema.default = fallback;
    },
  }) as JsonSchema;
  delete json.$schema;

  return json;
}

const ERROR_REF = "#/components/schemas/Error";

const errorDescriptions: Record<number, string> = {
  400: "Invalid input: details lists each field path and what is wrong",
  401: "Missing, unknown, revoked or expired bearer token",
  403: "The token may not do this (wrong kind, role, or agent paused)",
  404: "Not found (or not visible to this token)",
  409: "Conflict with the current state (e.g. the lease is not yours)",
  413: "Request body too large",
  415: "Unsupported Content-Type or Content-Encoding",
  429: "Rate limited; retry after the Retry-After header",
  500: "Internal error (details hidden)",
  503: "Database unavailable; retry after the Retry-After header",
};

function errorStatuses(spec: OperationSpec): number[] {
  const hasBody = spec.method !== "get";
  // Every route refuses query parameters it does not list with a 400.
  const statuses = new Set([
    400,
    401,
    403,
    429,
    500,
    503,
    ...(spec.errors ?? []),
  ]);
  if (hasBody) {
    statuses.add(413);
    statuses.add(415);
  }

  return [...statuses].sort((a, b) => a - b);
}

function queryParameters(query: ZodType | undefined) {
  if (!query) return [];
  const json = inputSchema(query);
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required as string[] | undefined) ?? []);

  return Object.entries(properties).map(([name, schema]) => ({
    name,
    in: "query",
    required: required.has(name),
    schema,
  }));
}

function pathParameters(path: string) {
  return [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: "path",
    required: true,
    schema: { type: "string", minLength: 1 },
  }));
}

function buildOperation(spec: OperationSpec, schemas: Record<string, unknown>) {
  const { contract } = spec.handler;
  const responses: Record<string, unknown> = {};
  for (const success of spec.success) {
    responses[String(success.status)] = {
      description: success.description,
      ...(success.schema
        ? { content: { "application/json": { schema: success.schema } } }
        : {}),
    };
  }
  for (const status of errorStatuses(spec)) {
    responses[String(status)] = {
      description: errorDescriptions[status] ?? "Error",
      content: { "application/json": { schema: { $ref: ERROR_REF } } },
    };
  }
  const operation: Record<string, unknown> = {
    operationId: spec.operationId,
    tags: [spec.tag],
    summary: spec.summary,
    security: [
      { [contract.auth === "agent" ? "agentToken" : "personToken"]: [] },
    ],
    parameters: [
      ...pathParameters(spec.path),
      ...queryParameters(contract.query),
    ],
    responses,
  };
  const body = spec.documentedBody
    ? spec.documentedBody
    : contract.body && spec.bodyName
      ? { name: spec.bodyName, schema: contract.body }
      : undefined;
  if (body) {
    schemas[body.name] = inputSchema(body.schema);
    const types = contract.mediaTypes?.accepted ?? ["application/json"];
    operation.requestBody = {
      required: true,
      content: Object.fromEntries(
        types.map((type) => [
          type,
          { schema: { $ref: `#/components/schemas/${body.name}` } },
        ]),
      ),
    };
  }

  return operation;
}

/** The OpenAPI 3.1 document; built once per process. */
export function buildOpenApiDocument() {
  const schemas: Record<string, unknown> = {
    Error: {
      type: "object",
      required: ["error"],
      properties: {
        error: {
          type: "object",
          required: ["code", "message", "details"],
          properties: {
            code: { type: "string", enum: Object.keys(errorTable) },
            message: { type: "string" },
            details: {
              description:
                "Field issues ({ path, message }[]) for invalid_input, " +
                "an object with specifics otherwise, or null",
              anyOf: [
                {
                  type: "array",
                  items: {
                    type: "object",
                    required: ["path", "message"],
                    properties: {
                      path: { type: "string" },
                      message: { type: "string" },
                    },
                  },
                },
                { type: "object" },
                { type: "null" },
              ],
            },
          },
        },
      },
    },
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of operations) {
    paths[spec.path] ??= {};
    paths[spec.path][spec.method] = buildOperation(spec, schemas);
  }
  paths[OPENAPI_PATH] = {
    get: {
      operationId: "openApiDocument",
      tags: ["Meta"],
      summary: "This document",
      security: [],
      responses: {
        "200": {
          description: "The OpenAPI 3.1 document",
          content: { "application/json": { schema: { type: "object" } } },
        },
      },
    },
  };

  return {
    openapi: "3.1.0",
    info: {
      title: "Flotilla agent API and read API",
      version: "1",
      description:
        "Agents call /api/agent/v1 with an agent token; people read " +
        "/api/v1 with a personal access token. Every error is " +
        "{ error: { code, message, details } }. A query parameter an " +
        "operation does not list is refused (400, naming it), and so is " +
        "one given twice that takes one value; a method a " +
        "path does not list is refused (405, with an Allow header). " +
        "Numbers in query strings are plain decimal digits.",
    },
    paths,
    components: {
      schemas,
      securitySchemes: {
        agentToken: {
          type: "http",
          scheme: "bearer",
          description:
            "An agent token (from `flotilla agent create` or the console)",
        },
        personToken: {
          type: "http",
          scheme: "bearer",
          description: "A personal access token (viewer or above)",
        },
      },
    },
  };
}

export const OPENAPI_PATH = "/api/agent/v1/openapi.json";

let cached: ReturnType<typeof buildOpenApiDocument> | undefined;

export function openApiDocument() {
  cached ??= buildOpenApiDocument();

  return cached;
}
