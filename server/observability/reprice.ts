import { sql } from "drizzle-orm";
import { z } from "zod";
import { inTransaction, queryRows, type Database } from "@/db/client";
import { requireProjectRole } from "@/server/identity/access";
import type { Actor } from "@/server/identity/actor";
import { recordAudit } from "@/server/identity/audit";
import { parseInput } from "@/server/input";
import { now } from "@/server/runtime";
import { projectPriceOverrides } from "./price-overrides";
import {
  globToRegExp,
  priceEvent,
  priceFor,
  type PriceOverride,
} from "./prices";
import {
  fromHundredMillionths,
  startOfHour,
  toHundredMillionths,
} from "./rollups";

// Unpriced events (a model neither the table nor the project's overrides
// knew when they arrived) and repricing them once a price exists. Each
// batch moves the events, their sessions' totals and their hourly rollups
// in one transaction, so totals keep equal to the sum of their events.
// The hash chain does not cover cost, so repriced events still verify.
// Reported costs are the client's word and are never repriced.

const BATCH = 500;

export const unpricedModelsInput = z.object({ project: z.string().min(1) });

export const repriceInput = z.object({
  project: z.string().min(1),
  /** Only this model id (exactly as stored); every unpriced model when
   * omitted. */
  model: z
    .string()
    .trim()
    .min(1, "Model must not be empty")
    .max(500, "Model must be at most 500 characters")
    .optional(),
});

export interface UnpricedModel {
  /** The model id as events carry it; null for events naming no model. */
  model: string | null;
  events: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  firstSeen: Date;
  lastSeen: Date;
  /** Whether a price (override or table) now covers some of its events,
   * so a reprice would price them. */
  priceable: boolean;
}

interface UnpricedGroup {
  model: string | null;
  events: string | number;
  input: string | number | null;
  output: string | number | null;
  cache_read: string | number | null;
  cache_write: string | number | null;
  first_seen: string | Date;
  last_seen: string | Date;
}

// Read from the events rather than the rollups: rollups outlive events
// (retention), and these are the events a reprice can still reach.
async function unpricedGroups(db: Database, projectId: string) {
  return queryRows<UnpricedGroup>(
    db,
    sql`select model, count(*) as events,
          sum(input_tokens) as input, sum(output_tokens) as output,
          sum(cache_read_tokens) as cache_read,
          sum(coalesce(cache_write_5m_tokens, 0)
            + coalesce(cache_write_1h_tokens, 0)) as cache_write,
          min(occurred_at) as first_seen, max(occurred_at) as last_seen
        from events
        where project_id = ${projectId} and cost_source = 'unpriced'
        group by model
        order by count(*) desc, model`,
  );
}

// Whether some moment in [first, last] has a price for the model: the
// table prices a known family at any time; an override from its date on.
function priceable(
  model: string | null,
  overrides: readonly PriceOverride[],
  last: Date,
): boolean {
  if (!model) return false;
  if (priceFor(model, last)) return true;
  const id = model.trim().toLowerCase();

  return overrides.some(
    (override) =>
      override.effectiveFrom.getTime() <= last.getTime() &&
      globToRegExp(override.pattern).test(id),
  );
}

/** The project's unpriced models, the most frequent first. */
export async function listUnpricedModels(
  db: Database,
  actor: Actor,
  input: z.input<typeof unpricedModelsInput>,
): Promise<UnpricedModel[]> {
  const values = parseInput(unpricedModelsInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );
  const overrides = await projectPriceOverrides(db, project.id);
  const groups = await unpricedGroups(db, project.id);

  return groups.map((group) => {
    const lastSeen = new Date(group.last_seen);

    return {
      model: group.model,
      events: Number(group.events),
      inputTokens: Number(group.input ?? 0),
      outputTokens: Number(group.output ?? 0),
      cacheReadTokens: Number(group.cache_read ?? 0),
      cacheWriteTokens: Number(group.cache_write ?? 0),
      firstSeen: new Date(group.first_seen),
      lastSeen,
      priceable: priceable(group.model, overrides, lastSeen),
    };
  });
}

export interface RepriceResult {
  /** Events that now carry a computed cost. */
  repriced: number;
  /** Unpriced events left: no price covers them yet. */
  stillUnpriced: number;
  /** What the repriced events cost, USD (8 places). */
  costUsd: string;
}

interface UnpricedEvent {
  id: string;
  occurred_at: string | Date;
  session_id: string;
  agent_id: string;
  model: string;
  goal_id: string | null;
  task_id: string | null;
  input_tokens: string | number | null;
  output_tokens: string | number | null;
  cache_read_tokens: string | number | null;
  cache_write_5m_tokens: string | number | null;
  cache_write_1h_tokens: string | number | null;
}

interface Priced {
  event: UnpricedEvent;
  occurredAt: Date;
  costUsd: string;
}

/** Prices the project's unpriced events (or one model's) at the prices
 * in force at each event's time now: the project's overrides, then the
 * table. Events no price covers stay unpriced. */
export async function repriceUnpriced(
  db: Database,
  actor: Actor,
  input: z.input<typeof repriceInput>,
): Promise<RepriceResult> {
  const values = parseInput(repriceInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "admin",
  );
  const overrides = await projectPriceOverrides(db, project.id);
  const groups = await unpricedGroups(db, project.id);
  // Only models some price covers are read back, event by event.
  const models = groups
    .filter(
      (group) => values.model === undefined || group.model === values.model,
    )
    .filter((group) =>
      priceable(group.model, overrides, new Date(group.last_seen)),
    )
    .map((group) => group.model as string);

  let repriced = 0;
  let cost = 0n;
  const repricedModels = new Set<string>();
  let earliest: Date | null = null;
  let latest: Date | null = null;
  let after: { at: Date; id: string } | null = null;
  while (models.length > 0) {
    const batch = await unpricedBatch(db, project.id, models, after);
    if (batch.length === 0) break;
    const last = batch[batch.length - 1];
    after = { at: new Date(last.occurred_at), id: last.id };
    const priced = batch.flatMap((event) => priceOne(event, overrides));
    if (priced.length === 0) continue;
    const moved = await inTransaction(db, (tx) =>
      applyPrices(tx, actor, project.id, priced),
    );
    repriced += moved.count;
    cost += moved.cost;
    for (const model of moved.models) repricedModels.add(model);
    if (moved.from && (!earliest || moved.from < earliest)) {
      earliest = moved.from;
    }
    if (moved.to && (!latest || moved.to > latest)) latest = moved.to;
  }
  // One audit row for the whole run (each batch commits on its own).
  if (repriced > 0) {
    await recordAudit(db, actor, {
      projectId: project.id,
      action: "prices.reprice",
      targetType: "project",
      targetId: project.id,
      details: {
        repriced,
        costUsd: fromHundredMillionths(cost),
        models: [...repricedModels].sort(),
        from: earliest?.toISOString() ?? null,
        to: latest?.toISOString() ?? null,
        at: now().toISOString(),
      },
    });
  }

  const remaining = await unpricedGroups(db, project.id);
  const stillUnpriced = remaining
    .filter(
      (group) => values.model === undefined || group.model === values.model,
    )
    .reduce((sum, group) => sum + Number(group.events), 0);

  return { repriced, stillUnpriced, costUsd: fromHundredMillionths(cost) };
}

async function unpricedBatch(
  db: Database,
  projectId: string,
  models: string[],
  after: { at: Date; id: string } | null,
): Promise<UnpricedEvent[]> {
  const past = after
    ? sql`and (occurred_at, id) > (${after.at.toISOString()}::timestamptz,
        ${after.id}::uuid)`
    : sql``;

  return queryRows<UnpricedEvent>(
    db,
    sql`select id, occurred_at, session_id, agent_id, model, goal_id,
          task_id, input_tokens, output_tokens, cache_read_tokens,
          cache_write_5m_tokens, cache_write_1h_tokens
        from events
        where project_id = ${projectId} and cost_source = 'unpriced'
          and model in (${sql.join(
            models.map((model) => sql`${model}`),
            sql`, `,
          )})
          ${past}
        order by occurred_at, id
        limit ${BATCH}`,
  );
}

function priceOne(
  event: UnpricedEvent,
  overrides: readonly PriceOverride[],
): Priced[] {
  const occurredAt = new Date(event.occurred_at);
  const cost = priceEvent({
    model: event.model,
    usage: {
      input: Number(event.input_tokens ?? 0),
      output: Number(event.output_tokens ?? 0),
      cacheRead: Number(event.cache_read_tokens ?? 0),
      cacheWrite5m: Number(event.cache_write_5m_tokens ?? 0),
      cacheWrite1h: Number(event.cache_write_1h_tokens ?? 0),
    },
    at: occurredAt,
    overrides,
  });
  if (cost.costSource !== "computed" || cost.costUsd === null) return [];

  return [{ event, occurredAt, costUsd: cost.costUsd }];
}

// One batch: the events (only those still unpriced, so a concurrent
// reprice cannot count one twice), then their sessions and their rollup
// rows, each in a fixed order as ingest locks them.
async function applyPrices(
  db: Database,
  actor: Actor,
  projectId: string,
  priced: Priced[],
): Promise<{
  count: number;
  cost: bigint;
  models: string[];
  from: Date | null;
  to: Date | null;
}> {
  const rows = sql.join(
    priced.map(
      (p) =>
        sql`(${p.event.id}::uuid, ${p.occurredAt.toISOString()}::timestamptz,
          ${p.costUsd}::numeric)`,
    ),
    sql`, `,
  );
  const updated = await queryRows<{ id: string }>(
    db,
    sql`update events e set cost_usd = v.cost, cost_source = 'computed'
        from (values ${rows}) as v(id, occurred_at, cost)
        where e.id = v.id and e.occurred_at = v.occurred_at
          and e.project_id = ${projectId} and e.cost_source = 'unpriced'
        returning e.id`,
  );
  const moved = new Set(updated.map((row) => row.id));
  const done = priced.filter((p) => moved.has(p.event.id));
  if (done.length === 0) {
    return { count: 0, cost: 0n, models: [], from: null, to: null };
  }

  const sessions = new Map<string, { count: number; cost: bigint }>();
  const buckets = new Map<
    string,
    { key: Priced; hour: Date; count: number; cost: bigint }
  >();
  let total = 0n;
  for (const p of done) {
    const cost = toHundredMillionths(p.costUsd);
    total += cost;
    const session = sessions.get(p.event.session_id) ?? { count: 0, cost: 0n };
    session.count += 1;
    session.cost += cost;
    sessions.set(p.event.session_id, session);
    const hour = startOfHour(p.occurredAt);
    const key = JSON.stringify([
      hour.getTime(),
      p.event.agent_id,
      p.event.model,
      p.event.goal_id,
      p.event.task_id,
    ]);
    const bucket = buckets.get(key) ?? { key: p, hour, count: 0, cost: 0n };
    bucket.count += 1;
    bucket.cost += cost;
    buckets.set(key, bucket);
  }

  // Ingest locks a batch's sessions in order of their external ids.
  const externalIds = new Map(
    (
      await queryRows<{ id: string; external_id: string }>(
        db,
        sql`select id, external_id from agent_sessions
            where id in (${sql.join(
              [...sessions.keys()].map((id) => sql`${id}::uuid`),
              sql`, `,
            )})`,
      )
    ).map((row) => [row.id, row.external_id]),
  );
  const sessionOrder = [...sessions].sort(([a], [b]) => {
    const x = externalIds.get(a) ?? a;
    const y = externalIds.get(b) ?? b;

    return x < y ? -1 : x > y ? 1 : 0;
  });
  for (const [sessionId, session] of sessionOrder) {
    await db.execute(
      sql`update agent_sessions
          set cost_usd = cost_usd + ${fromHundredMillionths(session.cost)}::numeric,
            unpriced_count = unpriced_count - ${session.count}
          where id = ${sessionId}`,
    );
  }
  for (const [, bucket] of [...buckets].sort(byKey)) {
    const e = bucket.key.event;
    await db.execute(
      sql`update spend_hourly
          set cost_usd = cost_usd + ${fromHundredMillionths(bucket.cost)}::numeric,
            priced_calls = priced_calls + ${bucket.count},
            unpriced_calls = unpriced_calls - ${bucket.count}
          where project_id = ${projectId}
            and hour = ${bucket.hour.toISOString()}::timestamptz
            and agent_id = ${e.agent_id}
            and model is not distinct from ${e.model}
            and goal_id is not distinct from ${e.goal_id}::uuid
            and task_id is not distinct from ${e.task_id}::uuid`,
    );
  }

  return {
    count: done.length,
    cost: total,
    models: done.map((p) => p.event.model as string),
    from: done[0]?.occurredAt ?? null,
    to: done[done.length - 1]?.occurredAt ?? null,
  };
}

function byKey<T>([a]: [string, T], [b]: [string, T]): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
