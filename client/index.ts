import type { z } from "zod";
import type {
  ContextAnswer,
  ContextNoAnswer,
  answerQuestionInput,
} from "@/server/context/answer";
import type {
  NoteDetail,
  NotePointer,
  NoteView,
  patchNoteSectionInput,
  writeNoteInput,
} from "@/server/context/notes";
import type { IngestResult } from "@/server/observability/ingest";
import type {
  NativeBatch,
  nativeEventSchema,
} from "@/server/observability/model";
import type {
  SessionDetail,
  sessionDetailInput,
} from "@/server/observability/sessions";
import type { SpendReport, spendInput } from "@/server/observability/spend";
import type {
  ClaimedTask,
  ClaimResult as ClaimBatch,
} from "@/server/orchestration/leases";
import type {
  claimInput,
  completeInput,
  createTaskInput,
  failInput,
  heartbeatInput,
  listGoalsInput,
  releaseInput,
  requestReviewInput,
} from "@/server/orchestration/schemas";
import type {
  PathCheck,
  renewReservationInput,
  ReservationView,
  ReserveResult,
  reserveInput,
} from "@/server/orchestration/reservations";
import type {
  BlockResult,
  blockTaskInput,
} from "@/server/orchestration/escalations";
import type { AgentNotices } from "@/server/orchestration/notices";
import type {
  AgentDirective,
  acknowledgeDirectiveInput,
} from "@/server/orchestration/directives";
import type { GoalView, TaskView } from "@/server/orchestration/views";
import type { PlanDetail } from "@/server/orchestration/plans";
import type {
  createGoalInput,
  submitPlanInput,
} from "@/server/orchestration/schemas";
import type { Agent, createAgentInput } from "@/server/identity/agents";
import type { PublicToken } from "@/server/identity/token-view";
import type { HookAnswer } from "@/server/observability/hooks";
import type { OtlpTraceAnswer } from "@/server/observability/otlp";

// A typed client for Flotilla's agent API and read API, on fetch alone.
// Every import above is type-only: inputs are typed from the zod schemas
// the routes validate with, results from what the domain returns, so the
// client cannot drift from the server without the type checker noticing.

/** What a value looks like after JSON: dates become ISO strings. */
export type Json<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Json<U>[]
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T;

// The task comes from the URL and the project from the token.
export type ClaimInput = z.input<typeof claimInput>;
export type HeartbeatInput = Omit<z.input<typeof heartbeatInput>, "taskId">;
export type CompleteInput = Omit<z.input<typeof completeInput>, "taskId">;
export type FailInput = Omit<z.input<typeof failInput>, "taskId">;
export type ReleaseInput = Omit<z.input<typeof releaseInput>, "taskId">;
export type RequestReviewInput = z.input<typeof requestReviewInput>;
export type CreateTaskInput = z.input<typeof createTaskInput>;
export type ReserveInput = z.input<typeof reserveInput>;
export type RenewReservationInput = Omit<
  z.input<typeof renewReservationInput>,
  "reservationId"
>;
export type GoalsQuery = Omit<z.input<typeof listGoalsInput>, "project">;
export type ContextQuery = Omit<
  z.input<typeof answerQuestionInput>,
  "project" | "q"
>;
export type SpendQuery = Omit<z.input<typeof spendInput>, "project">;
export type SessionQuery = Pick<z.input<typeof sessionDetailInput>, "limit">;
export type EventInput = z.input<typeof nativeEventSchema>;
export type EventBatchInput = {
  source?: NativeBatch["source"];
  events: EventInput[];
};

export type ClaimResult = Json<ClaimedTask>;
export type BatchClaimResult = Json<
  ClaimBatch & { task: TaskView | null; lease: ClaimedTask["lease"] | null }
>;
export type Task = Json<TaskView>;
export type Reservation = Json<ReservationView>;
export type ReservationResult = Json<ReserveResult>;
export type PathCheckResult = Json<PathCheck>;
export type Goal = Json<GoalView>;
export type BlockInput = Omit<z.input<typeof blockTaskInput>, "taskId">;
export type BlockTaskResult = Json<BlockResult>;
export type AcknowledgeInput = Omit<
  z.input<typeof acknowledgeDirectiveInput>,
  "directiveId"
>;
export type Directive = Json<AgentDirective>;
/** The renewed lease, with news for the agent (new directives, decisions
 * on its plans). */
export type HeartbeatResult = Json<ClaimedTask & { notices: AgentNotices }>;
export type ContextResult = Json<ContextAnswer | ContextNoAnswer>;
export type WriteNoteInput = Omit<z.input<typeof writeNoteInput>, "project">;
export type PatchNoteSectionInput = Omit<
  z.input<typeof patchNoteSectionInput>,
  "project" | "documentId"
>;
export type ContextDocument = Json<NoteView>;
export type ContextDocumentDetail = Json<NoteDetail>;
export type WriteNoteResult = Json<{
  document: NoteView;
  superseded: NotePointer | null;
}>;
export type PatchNoteResult = Json<{
  document: NoteView;
  heading: string;
  version: number;
  changed: boolean;
}>;
export type ReportResult = IngestResult;
export type SpendResult = Json<SpendReport>;
export type SessionResult = Json<SessionDetail>;
export type SubmitPlanInput = Omit<z.input<typeof submitPlanInput>, "goalId">;
export type Plan = Json<PlanDetail>;
export type CreateGoalInput = Omit<z.input<typeof createGoalInput>, "project">;
export type CreateAgentInput = Omit<
  z.input<typeof createAgentInput>,
  "project"
>;
/** A new agent, its token and the token's secret (shown once). */
export type CreatedAgent = Json<{
  agent: Agent;
  token: PublicToken;
  secret: string;
}>;
/** A Claude Code hook body as Claude Code posts it. */
export type ClaudeCodeHookBody = {
  session_id: string;
  hook_event_name: string;
  [field: string]: unknown;
};

/** An answer other than success, or no answer at all (status 0). */
export class FlotillaApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
    this.name = "FlotillaApiError";
  }

  /** The server could not be reached or failed itself (5xx). */
  get unreachable(): boolean {
    return this.status === 0 || this.status >= 500;
  }
}

export interface FlotillaClientOptions {
  /** Base URL of the Flotilla instance, e.g. http://localhost:3000. */
  url: string;
  /** An agent token for the agent API, a personal token for the read API. */
  token: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

type Query = Record<string, string | number | boolean | string[] | undefined>;

export class FlotillaClient {
  private readonly base: string;
  private readonly token: string;
  private readonly timeoutMs: number;
  private readonly fetcher: typeof fetch;

  constructor(options: FlotillaClientOptions) {
    this.base = options.url.replace(/\/+$/, "");
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.fetcher = options.fetch ?? fetch;
  }

  /** Claims the best ready task; null when nothing could be claimed. */
  async claim(input: ClaimInput = {}): Promise<ClaimResult | null> {
    const result = await this.claimMany({ ...input, count: 1 });

    return result.task && result.lease
      ? { task: result.task, lease: result.lease }
      : null;
  }

  /** Claims up to `input.count` tasks in one call; says why ready tasks
   * were skipped when none could be claimed. */
  async claimMany(input: ClaimInput = {}): Promise<BatchClaimResult> {
    return this.required(
      await this.request("POST", "/api/agent/v1/tasks/claim", { body: input }),
    );
  }

  async heartbeat(
    taskId: string,
    input: HeartbeatInput = {},
  ): Promise<HeartbeatResult> {
    return this.required(
      await this.request("POST", taskPath(taskId, "heartbeat"), {
        body: input,
      }),
    );
  }

  async complete(
    taskId: string,
    input: CompleteInput = {},
  ): Promise<{ task: Task }> {
    return this.required(
      await this.request("POST", taskPath(taskId, "complete"), {
        body: input,
      }),
    );
  }

  /** Hands the held task in for review; the lease ends. */
  async requestReview(
    taskId: string,
    input: Omit<RequestReviewInput, "taskId"> = {},
  ): Promise<{ task: Task }> {
    return this.required(
      await this.request("POST", taskPath(taskId, "review"), { body: input }),
    );
  }

  async fail(taskId: string, input: FailInput): Promise<{ task: Task }> {
    return this.required(
      await this.request("POST", taskPath(taskId, "fail"), { body: input }),
    );
  }

  async release(
    taskId: string,
    input: ReleaseInput = {},
  ): Promise<{ task: Task }> {
    return this.required(
      await this.request("POST", taskPath(taskId, "release"), {
        body: input,
      }),
    );
  }

  async createTask(input: CreateTaskInput): Promise<{ task: Task }> {
    return this.required(
      await this.request("POST", "/api/agent/v1/tasks", { body: input }),
    );
  }

  /** Reserves path globs. A conflict is an answer, not an error:
   * granted is false and conflicts names each hold and its holder. */
  async reserve(input: ReserveInput): Promise<ReservationResult> {
    return this.required(
      await this.request("POST", "/api/agent/v1/reservations", {
        body: input,
      }),
    );
  }

  /** The calling agent's live reservations. */
  async reservations(): Promise<{ reservations: Reservation[] }> {
    return this.required(
      await this.request("GET", "/api/agent/v1/reservations", {}),
    );
  }

  async renewReservation(
    reservationId: string,
    input: RenewReservationInput = {},
  ): Promise<{ reservation: Reservation }> {
    return this.required(
      await this.request("POST", reservationPath(reservationId, "renew"), {
        body: input,
      }),
    );
  }

  async releaseReservation(
    reservationId: string,
  ): Promise<{ released: true; reservation: Reservation }> {
    return this.required(
      await this.request("POST", reservationPath(reservationId, "release"), {
        body: {},
      }),
    );
  }

  /** Whether other agents hold these concrete paths, and who. */
  async checkPaths(paths: string[]): Promise<{ paths: PathCheckResult[] }> {
    return this.required(
      await this.request("GET", "/api/agent/v1/reservations/check", {
        query: { path: paths },
      }),
    );
  }

  /** Blocks the held task on a conflict; operators get an escalation. */
  async block(taskId: string, input: BlockInput): Promise<BlockTaskResult> {
    return this.required(
      await this.request("POST", taskPath(taskId, "block"), { body: input }),
    );
  }

  /** Directives not yet acknowledged; reading marks them delivered. */
  async directives(): Promise<{ directives: Directive[] }> {
    return this.required(
      await this.request("GET", "/api/agent/v1/directives", {}),
    );
  }

  async acknowledgeDirective(
    directiveId: string,
    input: AcknowledgeInput = {},
  ): Promise<{ directive: Directive & { acknowledgedAt: string } }> {
    const path = `/api/agent/v1/directives/${encode(directiveId)}/ack`;

    return this.required(await this.request("POST", path, { body: input }));
  }

  async goals(query: GoalsQuery = {}): Promise<{ goals: Goal[] }> {
    return this.required(
      await this.request("GET", "/api/agent/v1/goals", { query }),
    );
  }

  /** Submits a plan for a goal; approved at once (with task ids) when
   * the goal needs no approval, otherwise it waits for an operator. */
  async submitPlan(goalId: string, input: SubmitPlanInput): Promise<Plan> {
    const path = `/api/agent/v1/goals/${encode(goalId)}/plans`;
    const answer = await this.request<{ plan: Plan }>("POST", path, {
      body: input,
    });

    return this.required(answer).plan;
  }

  /** A plan as its author polls it. */
  async plan(planId: string): Promise<Plan> {
    const path = `/api/agent/v1/plans/${encode(planId)}`;
    const answer = await this.request<{ plan: Plan }>("GET", path, {});

    return this.required(answer).plan;
  }

  /** Posts a Claude Code hook body; for PreToolUse the answer carries the
   * guardrails' permission decision. */
  async claudeCodeHook(body: ClaudeCodeHookBody): Promise<HookAnswer> {
    return this.required(
      await this.request("POST", "/api/agent/v1/hooks/claude-code", { body }),
    );
  }

  /** Exports OTLP/HTTP JSON spans (`{ resourceSpans: [...] }`). */
  async exportSpans(body: {
    resourceSpans: unknown[];
  }): Promise<OtlpTraceAnswer> {
    return this.required(
      await this.request("POST", "/api/otlp/v1/traces", { body }),
    );
  }

  /** The section of the project's docs that answers `question`. */
  async context(
    question: string,
    options: ContextQuery = {},
  ): Promise<ContextResult> {
    return this.required(
      await this.request("GET", "/api/agent/v1/context", {
        query: {
          q: question,
          limit: options.limit,
          source: options.source,
          include_stale: options.includeStale,
          tier: options.tier,
        },
      }),
    );
  }

  /** Writes back what the agent learned as the canonical document of a
   * topic; pass `supersedes` to replace the topic's current one. */
  async writeNote(input: WriteNoteInput): Promise<WriteNoteResult> {
    return this.required(
      await this.request("POST", "/api/agent/v1/context/docs", {
        body: input,
      }),
    );
  }

  /** A document with its sections, versions and its topic's documents. */
  async contextDocument(documentId: string): Promise<ContextDocumentDetail> {
    return this.required(
      await this.request("GET", contextDocPath(documentId), {}),
    );
  }

  /** Replaces the body of one section, named by heading or heading path. */
  async patchNoteSection(
    documentId: string,
    input: PatchNoteSectionInput,
  ): Promise<PatchNoteResult> {
    return this.required(
      await this.request("PATCH", `${contextDocPath(documentId)}/sections`, {
        body: input,
      }),
    );
  }

  /** Soft-deletes an agent-written document. */
  async deleteNote(documentId: string): Promise<{ document: ContextDocument }> {
    return this.required(
      await this.request("DELETE", contextDocPath(documentId), {}),
    );
  }

  /** Brings a deleted agent-written document back. */
  async restoreNote(
    documentId: string,
  ): Promise<{ document: ContextDocument }> {
    return this.required(
      await this.request("POST", `${contextDocPath(documentId)}/restore`, {}),
    );
  }

  /** Reports native events: a batch, or a bare list of events. */
  async reportEvents(
    batch: EventBatchInput | EventInput[],
  ): Promise<ReportResult> {
    const body = Array.isArray(batch) ? { events: batch } : batch;

    return this.required(
      await this.request("POST", "/api/agent/v1/events", { body }),
    );
  }

  /** Spend of a project (read API; needs a personal access token). */
  async spend(project: string, query: SpendQuery = {}): Promise<SpendResult> {
    return this.required(
      await this.request("GET", `${projectPath(project)}/spend`, {
        query: {
          from: query.from,
          to: query.to,
          group_by: Array.isArray(query.groupBy)
            ? query.groupBy.join(",")
            : query.groupBy,
          format: "json",
        },
      }),
    );
  }

  /** Creates an agent of the project with its first token (personal
   * token of a project admin). A name already taken is a 409 conflict. */
  async createAgent(
    project: string,
    input: CreateAgentInput,
  ): Promise<CreatedAgent> {
    return this.required(
      await this.request("POST", `${projectPath(project)}/agents`, {
        body: input,
      }),
    );
  }

  /** Creates a goal of the project (personal token, operator or above). */
  async createGoal(
    project: string,
    input: CreateGoalInput,
  ): Promise<{ goal: Goal }> {
    return this.required(
      await this.request("POST", `${projectPath(project)}/goals`, {
        body: input,
      }),
    );
  }

  /** One session with its events (read API; personal access token). */
  async session(
    project: string,
    sessionId: string,
    query: SessionQuery = {},
  ): Promise<SessionResult> {
    const path = `${projectPath(project)}/sessions/${encode(sessionId)}`;

    return this.required(
      await this.request("GET", path, { query: { limit: query.limit } }),
    );
  }

  private required<T>(value: T | null): T {
    if (value === null) {
      throw new FlotillaApiError(502, "empty_response", "Empty response");
    }

    return value;
  }

  private async request<T>(
    method: "GET" | "POST" | "PATCH" | "DELETE",
    path: string,
    options: { body?: unknown; query?: Query },
  ): Promise<T | null> {
    const url = new URL(`${this.base}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (Array.isArray(value)) {
        for (const item of value) url.searchParams.append(key, item);
      } else if (value !== undefined) {
        url.searchParams.set(key, String(value));
      }
    }
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      accept: "application/json",
    };
    if (options.body !== undefined)
      headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await this.fetcher(url, {
        method,
        headers,
        body:
          options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const cause = error instanceof Error ? error.message : String(error);
      throw new FlotillaApiError(
        0,
        "unreachable",
        `Could not reach ${this.base}: ${cause}`,
      );
    }
    if (response.status === 204) return null;
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON (a proxy's error page, say): reported below by status.
    }
    if (!response.ok) throw toApiError(response.status, parsed, text);

    return parsed as T;
  }
}

function toApiError(status: number, parsed: unknown, text: string) {
  const error = (parsed as { error?: Record<string, unknown> } | null)?.error;
  if (error && typeof error.code === "string") {
    return new FlotillaApiError(
      status,
      error.code,
      typeof error.message === "string" ? error.message : error.code,
      error.details ?? null,
    );
  }
  const excerpt = text.slice(0, 200).replace(/\s+/g, " ").trim();

  return new FlotillaApiError(
    status,
    status >= 500 ? "server_error" : "http_error",
    `The server answered ${status}${excerpt ? `: ${excerpt}` : ""}`,
  );
}

function encode(segment: string) {
  return encodeURIComponent(segment);
}

function contextDocPath(documentId: string) {
  return `/api/agent/v1/context/docs/${encode(documentId)}`;
}

function taskPath(taskId: string, action: string) {
  return `/api/agent/v1/tasks/${encode(taskId)}/${action}`;
}

function reservationPath(reservationId: string, action: string) {
  return `/api/agent/v1/reservations/${encode(reservationId)}/${action}`;
}

function projectPath(project: string) {
  return `/api/v1/projects/${encode(project)}`;
}
