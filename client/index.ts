import type { z } from "zod";
import type {
  ContextAnswer,
  ContextNoAnswer,
  answerQuestionInput,
} from "@/server/context/answer";
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
import type { ClaimedTask } from "@/server/orchestration/leases";
import type {
  claimInput,
  completeInput,
  createTaskInput,
  failInput,
  heartbeatInput,
  listGoalsInput,
  releaseInput,
} from "@/server/orchestration/schemas";
import type { GoalView, TaskView } from "@/server/orchestration/views";

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
export type CreateTaskInput = z.input<typeof createTaskInput>;
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
export type Task = Json<TaskView>;
export type Goal = Json<GoalView>;
export type ContextResult = Json<ContextAnswer | ContextNoAnswer>;
export type ReportResult = IngestResult;
export type SpendResult = Json<SpendReport>;
export type SessionResult = Json<SessionDetail>;

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

type Query = Record<string, string | number | boolean | undefined>;

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

  /** Claims the best ready task; null when nothing is ready. */
  claim(input: ClaimInput = {}): Promise<ClaimResult | null> {
    return this.request("POST", "/api/agent/v1/tasks/claim", { body: input });
  }

  async heartbeat(
    taskId: string,
    input: HeartbeatInput = {},
  ): Promise<ClaimResult> {
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

  async goals(query: GoalsQuery = {}): Promise<{ goals: Goal[] }> {
    return this.required(
      await this.request("GET", "/api/agent/v1/goals", { query }),
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
        },
      }),
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
    method: "GET" | "POST",
    path: string,
    options: { body?: unknown; query?: Query },
  ): Promise<T | null> {
    const url = new URL(`${this.base}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
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

function taskPath(taskId: string, action: string) {
  return `/api/agent/v1/tasks/${encode(taskId)}/${action}`;
}

function projectPath(project: string) {
  return `/api/v1/projects/${encode(project)}`;
}
