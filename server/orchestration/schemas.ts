import { z } from "zod";

// Inputs of the orchestration domain functions. Transports reuse these so a
// field error has the same path in the console, the agent API and the CLI.

// A draft goal is being written: its tasks are not claimed until it is
// made active.
export const goalStatuses = ["draft", "active", "paused", "done"] as const;
export type GoalStatus = (typeof goalStatuses)[number];

// In the order a task moves through them; states.ts says which moves are
// allowed and who may make each.
export const taskStatuses = [
  "draft",
  "ready",
  "claimed",
  "in_progress",
  "in_review",
  "blocked",
  "done",
  "failed",
  "cancelled",
] as const;
export type TaskStatus = (typeof taskStatuses)[number];

// Amounts are stored with four decimals; finer ones are refused rather
// than silently rounded.
const usd = z
  .number({ error: "Must be a number of US dollars" })
  .min(0, "Must be 0 or more")
  .max(1_000_000_000, "Must be at most 1,000,000,000")
  .refine(
    (value) => Math.abs(value * 10_000 - Math.round(value * 10_000)) < 1e-6,
    "Use at most 4 decimal places",
  );
const title = z
  .string()
  .trim()
  .min(1, "Title is required")
  .max(200, "Title must be at most 200 characters");
const description = z.string().max(20_000);
const id = z.uuid("Must be a UUID");
const leaseSeconds = z
  .number()
  .int()
  .min(10, "A lease lasts at least 10 seconds")
  .max(86_400, "A lease lasts at most 86400 seconds");
// The lease value a claim hands out; a write carrying an older one comes
// from a holder that lost the task since.
const fencingToken = z.number().int().min(0);

const dependsOn = z
  .array(id)
  .max(100, "At most 100 dependencies")
  .refine((ids) => new Set(ids).size === ids.length, "List each task once");

const scopeEntry = z
  .string()
  .trim()
  .min(1, "A scope entry must not be empty")
  .max(500)
  .refine((glob) => !glob.includes("\0"), "Must not contain NUL")
  .refine((glob) => !glob.includes("\\"), "Use / to separate folders, not \\")
  .refine(
    (glob) => !glob.split("/").includes(".."),
    "Must not contain '..': scopes are paths inside the repository",
  )
  .refine(
    // An empty entry is already refused above.
    (glob) =>
      glob === "" ||
      glob.split("/").some((segment) => segment !== "" && segment !== "."),
    "Must name a path, not only slashes or dots",
  );

const priority = z
  .number({ error: "Priority must be a whole number" })
  .int("Priority must be a whole number")
  .min(-1000)
  .max(1000)
  .default(0);

const tokens = z
  .number({ error: "Must be a whole number of tokens" })
  .int("Must be a whole number of tokens")
  .min(0, "Must be 0 or more")
  .max(1_000_000_000_000, "Must be at most 1,000,000,000,000");

export const MAX_SUCCESS_CRITERIA = 50;

const criterionText = z
  .string()
  .trim()
  .min(1, "A criterion must not be empty")
  .max(500, "A criterion must be at most 500 characters");

// The goal's checklist: each line says what "achieved" means; operators
// tick lines off as they are met.
const successCriteria = z
  .array(
    z
      .object({ text: criterionText, done: z.boolean().default(false) })
      .strict(),
  )
  .max(MAX_SUCCESS_CRITERIA, `At most ${MAX_SUCCESS_CRITERIA} criteria`);

/** The owner: a user's email or id; null leaves the goal without one. */
const owner = z
  .string()
  .trim()
  .min(1, "Name the owner by email or user id")
  .max(320);

const dueAt = z.coerce
  .date({ error: "Must be a date" })
  .refine(
    (d) => d.getUTCFullYear() >= 1970 && d.getUTCFullYear() <= 9999,
    "Must be a date between 1970 and 9999",
  );

const maxActiveTasks = z
  .number()
  .int("Must be a whole number")
  .min(1, "At least 1; leave empty for no limit")
  .max(10_000, "At most 10,000");

export const createGoalInput = z
  .object({
    project: z.string().min(1),
    title,
    description: description.default(""),
    budgetUsd: usd.nullable().optional(),
    budgetTokens: tokens.nullable().optional(),
    // Plans for the goal wait for an operator's approval unless false.
    requiresPlanApproval: z.boolean().default(true),
    successCriteria: successCriteria.default([]),
    owner: owner.nullable().optional(),
    priority,
    dueAt: dueAt.nullable().optional(),
    maxActiveTasks: maxActiveTasks.nullable().optional(),
    /** True creates the goal as a draft, whose tasks are not claimed. */
    draft: z.boolean().default(false),
  })
  .strict();

export const updateGoalInput = z
  .object({
    goalId: id,
    title: title.optional(),
    description: description.optional(),
    /** null removes the budget. */
    budgetUsd: usd.nullable().optional(),
    budgetTokens: tokens.nullable().optional(),
    status: z.enum(goalStatuses).optional(),
    requiresPlanApproval: z.boolean().optional(),
    /** Replaces the whole checklist. */
    successCriteria: successCriteria.optional(),
    owner: owner.nullable().optional(),
    priority: priority.unwrap().optional(),
    dueAt: dueAt.nullable().optional(),
    maxActiveTasks: maxActiveTasks.nullable().optional(),
  })
  .strict();

/** Ticks one line of a goal's checklist (or clears it). `text` must match
 * the line, so a tick aimed at a list someone just edited is refused. */
export const setGoalCriterionInput = z
  .object({
    goalId: id,
    index: z
      .number()
      .int()
      .min(0)
      .max(MAX_SUCCESS_CRITERIA - 1),
    text: criterionText.optional(),
    done: z.boolean(),
  })
  .strict();

export const listGoalsInput = z.object({
  project: z.string().min(1),
  status: z.enum(goalStatuses).optional(),
});

export const goalIdInput = z.object({ goalId: id });

const capability = z
  .string()
  .trim()
  .min(1, "A capability tag must not be empty")
  .max(100);

export const createTaskInput = z
  .object({
    goalId: id,
    title,
    description: description.default(""),
    priority,
    // Path globs relative to the repository, e.g. "src/api/**".
    scope: z
      .array(scopeEntry)
      .max(100, "At most 100 scope entries")
      .default([]),
    estimateUsd: usd.nullable().optional(),
    acceptanceCriteria: z.string().max(20_000).default(""),
    // Only an agent with every one of these tags may claim the task.
    capabilities: z.array(capability).max(50).default([]),
    // Other tasks of the same goal that must be done before this one.
    dependsOn: dependsOn.default([]),
  })
  .strict();

export const setDependenciesInput = z
  .object({ taskId: id, dependsOn })
  .strict();

export const listTasksInput = z.object({
  project: z.string().min(1),
  goalId: id.optional(),
  status: z.enum(taskStatuses).optional(),
  // The agent holding the task (the board's agent filter).
  holderAgentId: id.optional(),
  // Tasks that need this capability tag.
  capability: z
    .string()
    .trim()
    .min(1, "A capability tag must not be empty")
    .max(100, "A capability tag must be at most 100 characters")
    .optional(),
});

export const taskIdInput = z.object({ taskId: id });

export const claimInput = z
  .object({
    goalId: id.optional(),
    ttlSeconds: leaseSeconds.optional(),
    // Claim up to this many tasks in one call.
    count: z
      .number()
      .int()
      .min(1, "Claim at least 1 task")
      .max(50, "Claim at most 50 tasks at once")
      .optional(),
  })
  .strict();

export const heartbeatInput = z
  .object({
    taskId: id,
    leaseId: id.optional(),
    fencingToken: fencingToken.optional(),
    ttlSeconds: leaseSeconds.optional(),
  })
  .strict();

export const completeInput = z
  .object({
    taskId: id,
    leaseId: id.optional(),
    fencingToken: fencingToken.optional(),
    result: z.string().max(100_000).optional(),
  })
  .strict();

export const failInput = z
  .object({
    taskId: id,
    leaseId: id.optional(),
    fencingToken: fencingToken.optional(),
    reason: z.string().trim().min(1, "Say why the task failed").max(20_000),
  })
  .strict();

export const releaseInput = z
  .object({
    taskId: id,
    leaseId: id.optional(),
    fencingToken: fencingToken.optional(),
  })
  .strict();

export const requestReviewInput = z
  .object({
    taskId: id,
    leaseId: id.optional(),
    fencingToken: fencingToken.optional(),
    // What was done and where to look, for the reviewer.
    note: z.string().trim().max(20_000).optional(),
  })
  .strict();

export const taskReviewDecisions = ["accept", "return"] as const;

export const reviewTaskInput = z
  .object({
    taskId: id,
    decision: z.enum(taskReviewDecisions),
    comment: z.string().trim().max(2000).optional(),
  })
  .strict();

export const operatorTaskInput = z.object({
  taskId: id,
  reason: z.string().trim().max(2000).optional(),
});

export const planStatuses = [
  "submitted",
  "approved",
  "rejected",
  "changes_requested",
] as const;
export type PlanStatus = (typeof planStatuses)[number];

// A plan's own name for one of its tasks, used by the others' dependsOn.
const planKey = z
  .string()
  .trim()
  .min(1, "A key must not be empty")
  .max(100, "A key must be at most 100 characters");

export const planTaskInput = z
  .object({
    key: planKey,
    title,
    description: description.default(""),
    acceptanceCriteria: z.string().max(20_000).default(""),
    // Every task of a plan says which files it touches, so overlapping
    // work can be seen at review and refused at claim.
    scope: z
      .array(scopeEntry)
      .min(1, "A task needs at least one path glob in its scope")
      .max(100, "At most 100 scope entries"),
    dependsOn: z
      .array(planKey)
      .max(100, "At most 100 dependencies")
      .refine(
        (keys) => new Set(keys).size === keys.length,
        "List each key once",
      )
      .default([]),
    priority,
    estimateUsd: usd.nullable().optional(),
    capabilities: z.array(capability).max(50).default([]),
  })
  .strict();

export const submitPlanInput = z
  .object({
    goalId: id,
    note: z.string().max(20_000).default(""),
    tasks: z
      .array(planTaskInput)
      .min(1, "A plan has at least one task")
      .max(500, "A plan has at most 500 tasks"),
  })
  .strict();
export type PlanTaskInput = z.infer<typeof planTaskInput>;

export const planIdInput = z.object({ planId: id });

export const planDecisions = ["approve", "reject", "request_changes"] as const;
export type PlanDecision = (typeof planDecisions)[number];

export const reviewPlanInput = z
  .object({
    planId: id,
    decision: z.enum(planDecisions),
    comment: z.string().trim().max(20_000).default(""),
  })
  .strict();
