import { createHash } from "node:crypto";
import { and, desc, eq, gt, inArray } from "drizzle-orm";
import { type Database, inTransaction } from "@/db/client";
import { DomainError } from "@/server/errors";
import { agentSessions, approvals, tasks } from "@/db/schema";
import { config } from "@/server/config";
import { maskSecrets } from "@/server/observability/flags";
import { lapsableStatuses } from "@/server/orchestration/states";
import { now } from "@/server/runtime";
import { approvalSettingsFor } from "./approval-settings";
import {
  expireApprovals,
  markApprovalDelivered,
  openApproval,
  waitForDecision,
  type ApprovalRow,
} from "./approval-store";
import { commandText, pathArguments } from "./match";
import type { PolicyDecision } from "./policy";

// An "ask" decision becomes an approval a person decides in the console.
// The PreToolUse hook waits for the decision for a bounded time (under
// Claude Code's 60 s hook timeout); still undecided, the call is denied and
// the agent is told to retry the same call later. A decision on a call
// holds for that exact call (same agent, tool and input) for ten minutes:
// an approval is not used up by the first call it allows, so Claude Code's
// own retries of the call pass too, and a denial is not asked again.

export const DECISION_HOLDS_MS = 10 * 60 * 1000;

let waitOverride: number | null = null;

/** Tests shorten the wait; null restores FLOTILLA_ASK_WAIT_SECONDS. */
export function setAskWaitSeconds(seconds: number | null): void {
  waitOverride = seconds;
}

function askWaitMs(): number {
  return (waitOverride ?? config().FLOTILLA_ASK_WAIT_SECONDS) * 1000;
}

/** JSON with object keys sorted, so equal inputs hash equally. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, child]) => child !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

    return `{${entries
      .map(([key, child]) => `${JSON.stringify(key)}:${canonical(child)}`)
      .join(",")}}`;
  }

  return JSON.stringify(value ?? null);
}

/** The key one tool call of one agent is asked under: the same input in
 * another working directory (a relative path, `rm -rf *`) is another
 * call, which the person who decided did not see. */
export function toolCallKey(
  agentId: string,
  toolName: string,
  toolInput: unknown,
  cwd: string | null = null,
): string {
  const hash = createHash("sha256")
    .update(canonical(cwd === null ? toolInput : { cwd, toolInput }))
    .digest("hex");

  return `tool:${agentId}:${toolName}:${hash}`;
}

export interface AskRequest {
  projectId: string;
  agentId: string;
  toolName: string;
  toolInput: unknown;
  /** The client's session id (Claude Code's session_id). */
  sessionId: string | null;
  cwd: string | null;
  /** The policy's "ask" decision: its rule and reason. */
  policy: PolicyDecision;
}

export interface AskOutcome {
  decision: PolicyDecision;
  /** Absent when no approval could be opened (too many are waiting). */
  approvalId?: string;
  /** The approval's status when the hook answered. */
  status: ApprovalRow["status"];
}

function shorten(text: string, max: number): string {
  const line = text.replace(/\s+/g, " ").trim();

  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** A decision on the same call made in the last ten minutes. */
async function recentDecision(
  db: Database,
  projectId: string,
  key: string,
): Promise<ApprovalRow | null> {
  const [row] = await db
    .select()
    .from(approvals)
    .where(
      and(
        eq(approvals.projectId, projectId),
        eq(approvals.dedupeKey, key),
        inArray(approvals.status, ["approved", "denied"]),
        gt(approvals.decidedAt, new Date(now().getTime() - DECISION_HOLDS_MS)),
      ),
    )
    .orderBy(desc(approvals.decidedAt))
    .limit(1);

  return row ?? null;
}

/** What the agent is doing: the task it holds and its session's cost. */
async function askContext(db: Database, ask: AskRequest) {
  const [held] = await db
    .select({ id: tasks.id, goalId: tasks.goalId })
    .from(tasks)
    .where(
      and(
        eq(tasks.holderAgentId, ask.agentId),
        inArray(tasks.status, lapsableStatuses()),
      ),
    )
    .limit(1);
  const [session] = ask.sessionId
    ? await db
        .select({ costUsd: agentSessions.costUsd })
        .from(agentSessions)
        .where(
          and(
            eq(agentSessions.projectId, ask.projectId),
            eq(agentSessions.externalId, ask.sessionId),
          ),
        )
        .limit(1)
    : [];

  return {
    taskId: held?.id ?? null,
    goalId: held?.goalId ?? null,
    costUsd: session ? Number(session.costUsd) : 0,
  };
}

/** Opens (or finds) the approval for a call the policy asks about. */
async function requestToolApproval(
  db: Database,
  ask: AskRequest,
  key: string,
): Promise<ApprovalRow> {
  const [settings, context] = await Promise.all([
    approvalSettingsFor(db, ask.projectId),
    askContext(db, ask),
    // A pending approval whose time ran out is closed first, so asking
    // again opens a fresh one.
    expireApprovals(db, { projectId: ask.projectId }),
  ]);
  const command = commandText(ask.toolInput);
  const paths = pathArguments(ask.toolInput);
  const what = command || paths.join(", ");
  // The title travels further than the payload (the queue, the
  // approval_waiting notification and its webhooks, the audit log), so
  // secrets in the command are masked before it is cut short.
  const title = shorten(
    maskSecrets(`${ask.toolName}${what ? `: ${what}` : ""}`),
    200,
  );
  const values = {
    projectId: ask.projectId,
    kind: "tool" as const,
    requiredRole: "operator" as const,
    title,
    reason: ask.policy.reason,
    payload: {
      toolName: ask.toolName,
      toolInput: ask.toolInput ?? null,
      command: command || null,
      paths,
      rule: ask.policy.rule,
      scope: ask.policy.scope,
      cwd: ask.cwd,
      costUsdAtRequest: context.costUsd,
    },
    agentId: ask.agentId,
    sessionId: ask.sessionId,
    goalId: context.goalId,
    taskId: context.taskId,
    dedupeKey: key,
    expiresAt: new Date(now().getTime() + settings.askTimeoutSeconds * 1000),
  };
  // A pending one decided between the insert and the read: ask once more.
  for (let attempt = 0; ; attempt++) {
    try {
      return (await inTransaction(db, (tx) => openApproval(tx, values)))
        .approval;
    } catch (error) {
      if (attempt >= 2) throw error;
    }
  }
}

function byWhom(row: ApprovalRow): string {
  return row.decidedByLabel ?? "a person";
}

/** The hook's answer for the call, given the approval as it stands. */
function answerFor(row: ApprovalRow, policy: PolicyDecision): PolicyDecision {
  const ref = `approval ${row.id}`;
  const note = row.comment ? `: ${row.comment}` : "";
  if (row.status === "approved") {
    return {
      ...policy,
      decision: "allow",
      reason: `Approved by ${byWhom(row)} (${ref})${note}`,
    };
  }
  if (row.status === "pending") {
    return {
      ...policy,
      decision: "deny",
      reason:
        `This call waits for a person's approval (${ref}): ` +
        `${policy.reason}. Retry the same call later; once approved it is ` +
        "allowed.",
    };
  }
  if (row.status === "expired") {
    return {
      ...policy,
      decision: "deny",
      reason:
        `No one approved this call in time (${ref}), so it is denied: ` +
        policy.reason,
    };
  }

  return {
    ...policy,
    decision: "deny",
    reason: `Denied by ${byWhom(row)} (${ref})${note}`,
  };
}

/** Settles an "ask": a recent decision on the same call answers at once;
 * otherwise the call's approval is opened (or reused) and waited on. */
export async function settleAsk(
  db: Database,
  ask: AskRequest,
): Promise<AskOutcome> {
  const key = toolCallKey(ask.agentId, ask.toolName, ask.toolInput, ask.cwd);
  const recent = await recentDecision(db, ask.projectId, key);
  let opened: ApprovalRow;
  try {
    opened = recent ?? (await requestToolApproval(db, ask, key));
  } catch (error) {
    // No room in the queue: the call is denied (a hook that failed would
    // let the tool run), saying why.
    if (error instanceof DomainError && error.code === "rate_limited") {
      return {
        decision: { ...ask.policy, decision: "deny", reason: error.message },
        status: "denied",
      };
    }
    throw error;
  }
  const row =
    opened.status === "pending"
      ? ((await waitForDecision(db, opened.id, askWaitMs())) ?? opened)
      : opened;
  if (row.status !== "pending") await markApprovalDelivered(db, row.id);

  return {
    decision: answerFor(row, ask.policy),
    approvalId: row.id,
    status: row.status,
  };
}
