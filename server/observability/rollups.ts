import { sql, type SQL } from "drizzle-orm";
import { queryRows, type Database } from "@/db/client";
import { spendHourly } from "@/db/schema";

// Spend rollups (spend_hourly): ingest adds each stored event that carries
// tokens or a cost to its hour's row, in the transaction that stores the
// event. Only events actually inserted are added, so a replay (which
// stores nothing) adds nothing, and a rejected item never reaches here.

const HOUR_MS = 3_600_000;
const UPSERT_CHUNK = 500;

/** What a stored event contributes to spend. */
export interface SpendContribution {
  projectId: string;
  agentId: string;
  occurredAt: Date;
  model: string | null;
  goalId: string | null;
  taskId: string | null;
  costUsd: string | null;
  costSource: string;
  inputTokens: number | null;
  outputTokens: number | null;
  cacheReadTokens: number | null;
  cacheWrite5mTokens: number | null;
  cacheWrite1hTokens: number | null;
}

interface Bucket {
  projectId: string;
  hour: Date;
  agentId: string;
  model: string | null;
  goalId: string | null;
  taskId: string | null;
  cost: bigint;
  priced: number;
  calls: number;
  unpriced: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

export function startOfHour(at: Date): Date {
  return new Date(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS);
}

/** The statements that add stored events to their hourly rollups, with
 * increments, so two transactions adding to one row both count (the
 * second waits on the first's row, then adds to it). Ingest runs them in
 * the statement that adds to its sessions' totals. */
export function rollupUpserts(
  db: Database,
  stored: SpendContribution[],
): SQL[] {
  const buckets = new Map<string, Bucket>();
  for (const event of stored) {
    if (event.costSource === "none") continue;
    const hour = startOfHour(event.occurredAt);
    const key = JSON.stringify([
      event.projectId,
      hour.getTime(),
      event.agentId,
      event.model,
      event.goalId,
      event.taskId,
    ]);
    const bucket = buckets.get(key) ?? {
      projectId: event.projectId,
      hour,
      agentId: event.agentId,
      model: event.model,
      goalId: event.goalId,
      taskId: event.taskId,
      cost: 0n,
      priced: 0,
      calls: 0,
      unpriced: 0,
      input: 0,
      output: 0,
      cacheRead: 0,
      cacheWrite: 0,
    };
    bucket.calls += 1;
    if (event.costUsd !== null) {
      bucket.priced += 1;
      bucket.cost += toHundredMillionths(event.costUsd);
    }
    if (event.costSource === "unpriced") bucket.unpriced += 1;
    // Each count is capped at 1e9 (limits.ts); a batch's sums stay exact
    // doubles.
    bucket.input += event.inputTokens ?? 0;
    bucket.output += event.outputTokens ?? 0;
    bucket.cacheRead += event.cacheReadTokens ?? 0;
    bucket.cacheWrite +=
      (event.cacheWrite5mTokens ?? 0) + (event.cacheWrite1hTokens ?? 0);
    buckets.set(key, bucket);
  }
  // Sorted so concurrent batches lock shared rows in the same order and
  // cannot deadlock on each other.
  const rows = [...buckets.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, b]) => ({
      projectId: b.projectId,
      hour: b.hour,
      agentId: b.agentId,
      model: b.model,
      goalId: b.goalId,
      taskId: b.taskId,
      costUsd: fromHundredMillionths(b.cost),
      pricedCalls: b.priced,
      calls: b.calls,
      unpricedCalls: b.unpriced,
      inputTokens: b.input,
      outputTokens: b.output,
      cacheReadTokens: b.cacheRead,
      cacheWriteTokens: b.cacheWrite,
    }));
  const r = spendHourly;
  const statements: SQL[] = [];
  for (let start = 0; start < rows.length; start += UPSERT_CHUNK) {
    const upsert = db
      .insert(r)
      .values(rows.slice(start, start + UPSERT_CHUNK))
      .onConflictDoUpdate({
        target: [r.projectId, r.hour, r.agentId, r.model, r.goalId, r.taskId],
        set: {
          costUsd: sql`${r.costUsd} + excluded.cost_usd`,
          pricedCalls: sql`${r.pricedCalls} + excluded.priced_calls`,
          calls: sql`${r.calls} + excluded.calls`,
          unpricedCalls: sql`${r.unpricedCalls} + excluded.unpriced_calls`,
          inputTokens: sql`${r.inputTokens} + excluded.input_tokens`,
          outputTokens: sql`${r.outputTokens} + excluded.output_tokens`,
          cacheReadTokens: sql`${r.cacheReadTokens} + excluded.cache_read_tokens`,
          cacheWriteTokens: sql`${r.cacheWriteTokens} + excluded.cache_write_tokens`,
        },
      });
    statements.push(upsert.getSQL());
  }

  return statements;
}

/** A rollup row that differs from the sum of its raw events. */
export interface RollupMismatch {
  hour: string;
  agentId: string;
  model: string | null;
  goalId: string | null;
  taskId: string | null;
  rollup: string | null;
  raw: string | null;
}

/** Compares every rollup row of a project (or all projects) with the
 * GROUP BY of its raw events; an empty list means they agree exactly,
 * cost to the last of its 8 places and every count. */
export async function rollupMismatches(
  db: Database,
  projectId?: string,
): Promise<RollupMismatch[]> {
  const rollupWhere = projectId
    ? sql`where r.project_id = ${projectId}`
    : sql``;
  const eventWhere = projectId ? sql`and e.project_id = ${projectId}` : sql``;

  return queryRows<RollupMismatch>(
    db,
    sql`with rolled as (
          select r.project_id, r.hour, r.agent_id, r.model, r.goal_id,
            r.task_id,
            concat_ws('|', round(r.cost_usd, 8), r.priced_calls, r.calls,
              r.unpriced_calls, r.input_tokens, r.output_tokens,
              r.cache_read_tokens, r.cache_write_tokens) as sums
          from spend_hourly r ${rollupWhere}
        ), raw as (
          select e.project_id, date_trunc('hour', e.occurred_at) as hour,
            e.agent_id, e.model, e.goal_id, e.task_id,
            concat_ws('|', round(coalesce(sum(e.cost_usd), 0), 8),
              count(e.cost_usd), count(*),
              count(*) filter (where e.cost_source = 'unpriced'),
              coalesce(sum(e.input_tokens), 0),
              coalesce(sum(e.output_tokens), 0),
              coalesce(sum(e.cache_read_tokens), 0),
              coalesce(sum(coalesce(e.cache_write_5m_tokens, 0)
                + coalesce(e.cache_write_1h_tokens, 0)), 0)) as sums
          from events e
          where e.cost_source <> 'none' ${eventWhere}
          group by e.project_id, date_trunc('hour', e.occurred_at),
            e.agent_id, e.model, e.goal_id, e.task_id
        )
        select to_char(coalesce(rolled.hour, raw.hour) at time zone 'UTC',
            'YYYY-MM-DD"T"HH24:MI"Z"') as hour,
          coalesce(rolled.agent_id, raw.agent_id) as "agentId",
          coalesce(rolled.model, raw.model) as model,
          coalesce(rolled.goal_id, raw.goal_id) as "goalId",
          coalesce(rolled.task_id, raw.task_id) as "taskId",
          rolled.sums as rollup, raw.sums as raw
        from rolled full join raw
          on rolled.project_id = raw.project_id
          and rolled.hour = raw.hour
          and rolled.agent_id = raw.agent_id
          and rolled.model is not distinct from raw.model
          and rolled.goal_id is not distinct from raw.goal_id
          and rolled.task_id is not distinct from raw.task_id
        where rolled.sums is distinct from raw.sums
        order by 1, 2
        limit 100`,
  );
}

// Event costs have 8 decimal places: summed as integers of 1e-8 USD to
// stay exact.
export function toHundredMillionths(value: string): bigint {
  const [whole, fraction = ""] = value.split(".");
  const negative = whole.startsWith("-");
  const digits = BigInt(
    whole.replace("-", "") + (fraction + "00000000").slice(0, 8),
  );

  return negative ? -digits : digits;
}

export function fromHundredMillionths(value: bigint): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(9, "0");

  return `${negative ? "-" : ""}${digits.slice(0, -8)}.${digits.slice(-8)}`;
}

/** Adds stored events to their hourly rollups on their own. */
export async function addToRollups(
  db: Database,
  stored: SpendContribution[],
): Promise<void> {
  for (const statement of rollupUpserts(db, stored)) {
    await db.execute(statement);
  }
}
