import { and, eq, gte, inArray, isNull, lt, lte, sql } from "drizzle-orm";
import { z } from "zod";
import { queryRows, type Database } from "@/db/client";
import {
  agentSessions,
  eventFlags,
  eventKeys,
  events,
  observabilitySettings,
  projects,
  spendHourly,
} from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { recordAudit } from "@/server/identity/audit";
import { parseInput } from "@/server/input";
import {
  startOncePerProcess,
  startPeriodic,
  type PeriodicHandle,
} from "@/server/periodic";
import { now } from "@/server/runtime";
import {
  forgetEventPartitions,
  listEventPartitions,
  type MonthPartition,
} from "./partitions";

// How long raw events and spend rollups are kept. Each project sets its
// own (observability_settings; defaults below). A retention pass:
//   1. drops whole monthly partitions of events that every project is done
//      with (cheap, whatever their size);
//   2. deletes what remains past each project's own retention;
//   3. deletes rollup hours and event keys past the rollup retention.
// A session's chain loses a prefix, never a hole: an event past retention
// goes once every event that arrived before it in its session is past
// retention too, and the session keeps the link where the remaining chain
// starts, so what is left still verifies (chain.ts).

export const DEFAULT_EVENT_RETENTION_DAYS = 180;
export const DEFAULT_ROLLUP_RETENTION_DAYS = 1095;
const DAY_MS = 86_400_000;
/** Sessions handled per statement while cutting chains. */
const SESSION_BATCH = 500;

export interface RetentionSettings {
  eventRetentionDays: number;
  rollupRetentionDays: number;
}

export const retentionSettingsInput = z.object({ project: z.string().min(1) });

export const updateRetentionSettingsInput = z
  .object({
    project: z.string().min(1),
    eventRetentionDays: z
      .number()
      .int("Whole days")
      .min(1, "At least one day")
      .max(3650, "At most ten years"),
    rollupRetentionDays: z
      .number()
      .int("Whole days")
      .min(1, "At least one day")
      .max(36_500, "At most 100 years"),
  })
  .refine((v) => v.rollupRetentionDays >= v.eventRetentionDays, {
    path: ["rollupRetentionDays"],
    message: "Rollups are kept at least as long as raw events",
  });

async function settingsFor(
  db: Database,
  projectId: string,
): Promise<RetentionSettings> {
  const [row] = await db
    .select({
      eventRetentionDays: observabilitySettings.eventRetentionDays,
      rollupRetentionDays: observabilitySettings.rollupRetentionDays,
    })
    .from(observabilitySettings)
    .where(eq(observabilitySettings.projectId, projectId))
    .limit(1);

  return {
    eventRetentionDays: row?.eventRetentionDays ?? DEFAULT_EVENT_RETENTION_DAYS,
    rollupRetentionDays:
      row?.rollupRetentionDays ?? DEFAULT_ROLLUP_RETENTION_DAYS,
  };
}

export async function getRetentionSettings(
  db: Database,
  actor: Actor,
  input: z.input<typeof retentionSettingsInput>,
): Promise<RetentionSettings & { canEdit: boolean }> {
  const values = parseInput(retentionSettingsInput, input);
  const { project, role } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );

  return { ...(await settingsFor(db, project.id)), canEdit: role === "admin" };
}

/** An admin sets how long the project keeps raw events and rollups.
 * Audited; the next retention pass applies it. */
export async function updateRetentionSettings(
  db: Database,
  actor: Actor,
  input: z.input<typeof updateRetentionSettingsInput>,
): Promise<RetentionSettings> {
  const values = parseInput(updateRetentionSettingsInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "admin",
  );
  const before = await settingsFor(db, project.id);
  const after: RetentionSettings = {
    eventRetentionDays: values.eventRetentionDays,
    rollupRetentionDays: values.rollupRetentionDays,
  };
  const at = now();
  await db
    .insert(observabilitySettings)
    .values({
      projectId: project.id,
      ...after,
      updatedBy: actor.kind === "user" ? actor.userId : null,
      updatedAt: at,
    })
    .onConflictDoUpdate({
      target: observabilitySettings.projectId,
      set: {
        ...after,
        updatedBy: actor.kind === "user" ? actor.userId : null,
        updatedAt: at,
      },
    });
  await recordAudit(db, actor, {
    projectId: project.id,
    action: "observability.retention",
    targetType: "project",
    targetId: project.id,
    details: { before, after },
  });

  return after;
}

export interface RetentionReport {
  droppedPartitions: string[];
  deletedEvents: number;
  prunedSessions: number;
  deletedRollupRows: number;
  deletedEventKeys: number;
}

interface ProjectCutoffs {
  projectId: string;
  events: Date;
  rollups: Date;
}

async function cutoffsAt(db: Database, at: Date): Promise<ProjectCutoffs[]> {
  const rows = await db
    .select({
      projectId: projects.id,
      eventDays: observabilitySettings.eventRetentionDays,
      rollupDays: observabilitySettings.rollupRetentionDays,
    })
    .from(projects)
    .leftJoin(
      observabilitySettings,
      eq(observabilitySettings.projectId, projects.id),
    );

  return rows.map((row) => ({
    projectId: row.projectId,
    events: new Date(
      at.getTime() - (row.eventDays ?? DEFAULT_EVENT_RETENTION_DAYS) * DAY_MS,
    ),
    rollups: new Date(
      at.getTime() - (row.rollupDays ?? DEFAULT_ROLLUP_RETENTION_DAYS) * DAY_MS,
    ),
  }));
}

// Cuts the chains of the project's sessions that hold events older than
// the cutoff. A session loses the longest prefix (in order of arrival) of
// events that are all past the cutoff, and keeps the link of the last one
// it lost. An old event that arrived after a newer one stays until that
// newer one goes too: a chain never loses a middle, and nothing within
// retention is removed. Returns the events deleted and the sessions cut.
// Rows older than `dropBefore` are left in place: their partitions are
// dropped whole afterwards (or, holding such stragglers, trimmed).
async function cutChains(
  db: Database,
  projectId: string,
  cutoff: Date,
  dropBefore: Date,
): Promise<{ deleted: number; sessions: number }> {
  let deleted = 0;
  let sessions = 0;
  const cutoffText = cutoff.toISOString();
  for (;;) {
    const cuts = await queryRows<{
      session_id: string;
      seq: number;
      hash: string | null;
    }>(
      db,
      sql`with old as (
            select s.id, s.pruned_through_seq,
              coalesce(
                (select min(k.chain_seq) - 1 from ${events} k
                  where k.session_id = s.id and k.chain_seq is not null
                    and k.occurred_at >= ${cutoffText}::timestamptz),
                (select max(m.chain_seq) from ${events} m
                  where m.session_id = s.id)) as seq
            from ${agentSessions} s
            where s.project_id = ${projectId}
              and exists (
                select 1 from ${events} e
                where e.session_id = s.id and e.project_id = ${projectId}
                  and e.occurred_at < ${cutoffText}::timestamptz
                  and e.chain_seq > s.pruned_through_seq)
          )
          select old.id as session_id, old.seq, e.chain_hash as hash
          from old
          join ${events} e on e.session_id = old.id and e.chain_seq = old.seq
          where old.seq > old.pruned_through_seq
          order by old.id
          limit ${SESSION_BATCH}`,
    );
    if (cuts.length === 0) break;
    await db.transaction(async (tx) => {
      for (const cut of cuts) {
        await tx
          .update(agentSessions)
          .set({ prunedThroughSeq: cut.seq, prunedChainHash: cut.hash })
          .where(eq(agentSessions.id, cut.session_id));
        const gone = await tx
          .delete(events)
          .where(
            and(
              eq(events.sessionId, cut.session_id),
              lte(events.chainSeq, cut.seq),
              gte(events.occurredAt, dropBefore),
            ),
          )
          .returning({ id: events.id });
        if (gone.length > 0) {
          await tx.delete(eventFlags).where(
            and(
              eq(eventFlags.sessionId, cut.session_id),
              inArray(
                eventFlags.eventId,
                gone.map((g) => g.id),
              ),
            ),
          );
        }
        deleted += gone.length;
      }
    });
    sessions += cuts.length;
  }
  // Rows written outside ingest carry no chain position: they just go.
  const loose = await db
    .delete(events)
    .where(
      and(
        eq(events.projectId, projectId),
        lt(events.occurredAt, cutoff),
        gte(events.occurredAt, dropBefore),
        isNull(events.chainSeq),
      ),
    )
    .returning({ id: events.id });
  deleted += loose.length;

  return { deleted, sessions };
}

// A partition past every project's retention is dropped whole, unless it
// holds stragglers: old events whose sessions must keep them (see
// cutChains). Then only the rest of its rows go, and it stays.
async function dropOrTrim(
  db: Database,
  partition: MonthPartition,
): Promise<{ dropped: boolean; deleted: number }> {
  const table = sql.raw(`"${partition.name}"`);
  const range = sql`event_occurred_at >= ${partition.from.toISOString()}::timestamptz
    and event_occurred_at < ${partition.to.toISOString()}::timestamptz`;
  const [straggler] = await queryRows<{ id: string }>(
    db,
    sql`select p.id from ${table} p
        join ${agentSessions} s on s.id = p.session_id
        where p.chain_seq > s.pruned_through_seq
        limit 1`,
  );
  if (!straggler) {
    const [{ count }] = await queryRows<{ count: number | string }>(
      db,
      sql`select count(*) as count from ${table}`,
    );
    await db.execute(sql`drop table if exists ${table}`);
    await db.execute(sql`delete from ${eventFlags} where ${range}`);

    return { dropped: true, deleted: Number(count) };
  }
  const gone = await queryRows<{ id: string; session_id: string }>(
    db,
    sql`delete from ${table} p using ${agentSessions} s
        where s.id = p.session_id
          and (p.chain_seq is null or p.chain_seq <= s.pruned_through_seq)
        returning p.id, p.session_id`,
  );
  for (let i = 0; i < gone.length; i += 1000) {
    const ids = gone.slice(i, i + 1000).map((g) => g.id);
    await db.delete(eventFlags).where(inArray(eventFlags.eventId, ids));
  }

  return { dropped: false, deleted: gone.length };
}

/** One retention pass over every project, at `at` (default now). */
export async function applyRetention(
  db: Database,
  at: Date = now(),
): Promise<RetentionReport> {
  const report: RetentionReport = {
    droppedPartitions: [],
    deletedEvents: 0,
    prunedSessions: 0,
    deletedRollupRows: 0,
    deletedEventKeys: 0,
  };
  const cutoffs = await cutoffsAt(db, at);
  if (cutoffs.length === 0) return report;

  // Partitions that end before every project's cutoff go whole.
  const oldest = Math.min(
    ...cutoffs.map((project) => project.events.getTime()),
  );
  const droppable = (await listEventPartitions(db)).filter(
    (partition) => partition.to.getTime() <= oldest,
  );
  const dropBefore = new Date(
    Math.max(0, ...droppable.map((partition) => partition.to.getTime())),
  );

  // Chains first, so every session keeps the link its remaining events
  // start from before their older events go.
  for (const project of cutoffs) {
    const cut = await cutChains(
      db,
      project.projectId,
      project.events,
      dropBefore,
    );
    report.deletedEvents += cut.deleted;
    report.prunedSessions += cut.sessions;
  }

  for (const partition of droppable) {
    const outcome = await dropOrTrim(db, partition);
    if (outcome.dropped) report.droppedPartitions.push(partition.name);
    report.deletedEvents += outcome.deleted;
  }
  if (report.droppedPartitions.length > 0) forgetEventPartitions(db);

  for (const project of cutoffs) {
    const rollups = await db
      .delete(spendHourly)
      .where(
        and(
          eq(spendHourly.projectId, project.projectId),
          lt(spendHourly.hour, project.rollups),
        ),
      )
      .returning({ hour: spendHourly.hour });
    report.deletedRollupRows += rollups.length;
    const keys = await db
      .delete(eventKeys)
      .where(
        and(
          eq(eventKeys.projectId, project.projectId),
          lt(eventKeys.occurredAt, project.rollups),
        ),
      )
      .returning({ key: eventKeys.eventKey });
    report.deletedEventKeys += keys.length;
  }

  return report;
}

/** The app's retention pass, hourly, once per process. */
export function startAppRetention(options: {
  database: () => Promise<Database>;
  onError: (error: unknown) => void;
  intervalMs?: number;
}): PeriodicHandle {
  return startOncePerProcess("flotilla.retention", () =>
    startPeriodicRetention(options),
  );
}

function startPeriodicRetention(options: {
  database: () => Promise<Database>;
  onError: (error: unknown) => void;
  intervalMs?: number;
}): PeriodicHandle {
  return startPeriodic({
    database: options.database,
    intervalMs: options.intervalMs ?? 3_600_000,
    onError: options.onError,
    pass: async (db) => {
      await applyRetention(db);
    },
  });
}
