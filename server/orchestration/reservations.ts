import {
  and,
  asc,
  eq,
  gt,
  inArray,
  isNull,
  ne,
  sql,
  type SQL,
} from "drizzle-orm";
import { z } from "zod";
import { inTransaction, type Database } from "@/db/client";
import { agents, reservations, tasks } from "@/db/schema";
import { assertAgentActive } from "@/server/guardrails/agents";
import { assertProjectActive } from "@/server/guardrails/policy";
import { conflict, notFound } from "@/server/errors";
import type { Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { parseInput } from "@/server/input";
import { newId, now } from "@/server/runtime";
import {
  lockScopeRoots,
  normalizeGlob,
  pathMatches,
  scopeOverlapSql,
  scopeRoots,
} from "./scopes";
import { leaseHeldStatuses } from "./states";

// Reservations: ad-hoc holds on paths outside a task. An agent reserves
// globs before it edits files no task of its own covers, so no other agent
// edits them meanwhile. A reservation is exclusive (conflicts with any
// overlapping hold of another agent) or shared (coexists with other shared
// reservations, conflicts with exclusive ones). A task held under a live
// lease counts as an exclusive hold on its scope. An agent's own tasks and
// reservations never conflict with it.

type AgentActor = Extract<Actor, { kind: "agent" }>;

export const reservationModes = ["exclusive", "shared"] as const;
export type ReservationMode = (typeof reservationModes)[number];

export const DEFAULT_RESERVATION_SECONDS = 300;

const id = z.uuid("Must be a UUID");

const reservationSeconds = z
  .number()
  .int("Must be a whole number of seconds")
  .min(10, "A reservation lasts at least 10 seconds")
  .max(3600, "A reservation lasts at most 3600 seconds");

const hasParentSegment = (text: string) =>
  normalizeGlob(text).split("/").includes("..");

const reservationGlob = z
  .string()
  .trim()
  .min(1, "A glob must not be empty")
  .max(500, "A glob must be at most 500 characters")
  .refine(
    (glob) => normalizeGlob(glob) !== "",
    'Name a path or a glob; "**" holds the whole project',
  )
  .refine(
    (glob) => !hasParentSegment(glob),
    "Paths are relative to the repository root; '..' is not allowed",
  );

export const reserveInput = z
  .object({
    globs: z
      .array(reservationGlob)
      .min(1, "Reserve at least one glob")
      .max(100, "At most 100 globs"),
    ttlSeconds: reservationSeconds.default(DEFAULT_RESERVATION_SECONDS),
    mode: z.enum(reservationModes).default("exclusive"),
    reason: z.string().trim().max(500).default(""),
  })
  .strict();

export const renewReservationInput = z
  .object({ reservationId: id, ttlSeconds: reservationSeconds.optional() })
  .strict();

export const releaseReservationInput = z.object({ reservationId: id }).strict();

export const listProjectReservationsInput = z.object({
  project: z.string().min(1),
});

const concretePath = z
  .string()
  .trim()
  .min(1, "A path must not be empty")
  .max(1000, "A path must be at most 1000 characters")
  .refine((path) => normalizeGlob(path) !== "", "Name a file, not the root");

export const checkPathsInput = z
  .object({
    paths: z
      .array(concretePath)
      .min(1, "Name at least one path")
      .max(100, "At most 100 paths"),
  })
  .strict();

// GET .../reservations/check?path=a&path=b: one `path` arrives as a
// string, several as a list.
export const checkPathsQuery = z.object({
  path: z.preprocess(
    (value) => (typeof value === "string" ? [value] : value),
    z
      .array(concretePath, { error: "Give at least one path=... parameter" })
      .min(1, "Give at least one path=... parameter")
      .max(100, "At most 100 paths"),
  ),
});

export interface ReservationView {
  id: string;
  agent: { id: string; name: string };
  globs: string[];
  mode: ReservationMode;
  reason: string;
  ttlSeconds: number;
  createdAt: Date;
  expiresAt: Date;
  releasedAt: Date | null;
}

/** Another agent's hold that stands in the way: a reservation or a task
 * held under a live lease (whose scope counts as exclusive). */
export interface Hold {
  kind: "task" | "reservation";
  /** The name of the agent that holds it. */
  holder: string;
  holderAgentId: string;
  taskId?: string;
  taskTitle?: string;
  reservationId?: string;
  globs: string[];
  mode: ReservationMode;
  expiresAt: Date;
}

export type ReserveResult =
  | { granted: true; reservation: ReservationView; conflicts: [] }
  | {
      granted: false;
      reservation: null;
      conflicts: Hold[];
      /** The conflicts in one sentence, for an agent to read. */
      message: string;
    };

export interface PathCheck {
  path: string;
  /** Whether another agent holds the path against the caller. */
  held: boolean;
  /** Those holds, each with the glob of theirs that matched. */
  holds: (Hold & { matched: string })[];
}

type ReservationRow = typeof reservations.$inferSelect;

function toView(
  row: ReservationRow,
  agent: { id: string; name: string },
): ReservationView {
  return {
    id: row.id,
    agent,
    globs: row.globs,
    mode: row.mode as ReservationMode,
    reason: row.reason,
    ttlSeconds: row.ttlSeconds,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    releasedAt: row.releasedAt,
  };
}

function textArray(values: string[]): SQL {
  if (values.length === 0) return sql`'{}'::text[]`;

  return sql`array[${sql.join(
    values.map((value) => sql`${value}`),
    sql`, `,
  )}]::text[]`;
}

/** Live reservations whose roots overlap `roots`: other agents' only,
 * unless `includeOwn`; exclusive ones only with `exclusiveOnly`. */
async function reservationHolds(
  db: Database,
  actor: AgentActor,
  roots: string[],
  at: Date,
  options: { exclusiveOnly: boolean; includeOwn: boolean },
) {
  return db
    .select({ row: reservations, holder: agents.name })
    .from(reservations)
    .innerJoin(agents, eq(agents.id, reservations.agentId))
    .where(
      and(
        eq(reservations.projectId, actor.projectId),
        gt(reservations.expiresAt, at),
        isNull(reservations.releasedAt),
        options.includeOwn
          ? undefined
          : ne(reservations.agentId, actor.agentId),
        options.exclusiveOnly ? eq(reservations.mode, "exclusive") : undefined,
        scopeOverlapSql(sql`${reservations.roots}`, textArray(roots)),
      ),
    )
    .orderBy(asc(reservations.expiresAt), asc(reservations.id));
}

/** Tasks other agents hold under a live lease whose scope roots overlap
 * `roots`. */
async function taskHolds(
  db: Database,
  actor: AgentActor,
  roots: string[],
  at: Date,
) {
  return db
    .select({
      id: tasks.id,
      title: tasks.title,
      scope: tasks.scope,
      holderId: agents.id,
      holder: agents.name,
      expiresAt: tasks.leaseExpiresAt,
    })
    .from(tasks)
    .innerJoin(agents, eq(agents.id, tasks.holderAgentId))
    .where(
      and(
        eq(tasks.projectId, actor.projectId),
        inArray(tasks.status, [...leaseHeldStatuses]),
        ne(tasks.holderAgentId, actor.agentId),
        gt(tasks.leaseExpiresAt, at),
        scopeOverlapSql(sql`${tasks.scopeRoots}`, textArray(roots)),
      ),
    )
    .orderBy(asc(tasks.leaseExpiresAt), asc(tasks.id));
}

type TaskHoldRow = Awaited<ReturnType<typeof taskHolds>>[number];
type ReservationHoldRow = Awaited<ReturnType<typeof reservationHolds>>[number];

function taskHold(row: TaskHoldRow): Hold {
  return {
    kind: "task",
    holder: row.holder,
    holderAgentId: row.holderId,
    taskId: row.id,
    taskTitle: row.title,
    globs: row.scope,
    mode: "exclusive",
    // The query keeps only tasks whose lease runs until a later moment.
    expiresAt: row.expiresAt ?? new Date(0),
  };
}

function reservationHold({ row, holder }: ReservationHoldRow): Hold {
  return {
    kind: "reservation",
    holder,
    holderAgentId: row.agentId,
    reservationId: row.id,
    globs: row.globs,
    mode: row.mode as ReservationMode,
    expiresAt: row.expiresAt,
  };
}

/** One hold in words: "task 'Fix login' held by agent beta (src/api/**,
 * until 2030-01-01T00:05:00.000Z)". */
export function describeHold(hold: Hold): string {
  const what =
    hold.kind === "task"
      ? `task '${hold.taskTitle ?? hold.taskId}'`
      : `${hold.mode} reservation ${hold.reservationId}`;
  const globs = hold.globs.slice(0, 3).join(", ");
  const more = hold.globs.length > 3 ? ", ..." : "";

  return (
    `${what} held by agent ${hold.holder} ` +
    `(${globs}${more}, until ${hold.expiresAt.toISOString()})`
  );
}

function uniqueGlobs(globs: string[]): string[] {
  return [...new Set(globs.map(normalizeGlob))];
}

/**
 * Reserves globs for the calling agent. In one transaction it takes the
 * advisory locks of the globs' roots (so two overlapping reservations, or a
 * reservation and a claim, are decided one after the other), then looks for
 * conflicting holds of other agents. Any conflict means nothing is granted;
 * the answer names each conflicting hold and its holder.
 */
export async function reservePaths(
  db: Database,
  actor: AgentActor,
  input: unknown,
): Promise<ReserveResult> {
  const values = parseInput(reserveInput, input);
  await assertAgentActive(db, actor.agentId);
  await assertProjectActive(db, actor.projectId);
  const globs = uniqueGlobs(values.globs);
  const roots = scopeRoots(globs);

  return inTransaction(db, async (tx): Promise<ReserveResult> => {
    await lockScopeRoots(tx, actor.projectId, roots);
    const at = now();
    // One connection holds the transaction: the queries run in turn.
    const held = await taskHolds(tx, actor, roots, at);
    const reserved = await reservationHolds(tx, actor, roots, at, {
      exclusiveOnly: values.mode === "shared",
      includeOwn: false,
    });
    const conflicts = [...held.map(taskHold), ...reserved.map(reservationHold)];
    if (conflicts.length > 0) {
      const listed = conflicts.slice(0, 3).map(describeHold).join("; ");
      const more =
        conflicts.length > 3 ? `; and ${conflicts.length - 3} more` : "";

      return {
        granted: false,
        reservation: null,
        conflicts,
        message: `Not reserved: it overlaps ${listed}${more}`,
      };
    }

    const [row] = await tx
      .insert(reservations)
      .values({
        id: newId(),
        projectId: actor.projectId,
        agentId: actor.agentId,
        globs,
        roots,
        mode: values.mode,
        reason: values.reason,
        ttlSeconds: values.ttlSeconds,
        createdAt: at,
        expiresAt: new Date(at.getTime() + values.ttlSeconds * 1000),
      })
      .returning();

    return {
      granted: true,
      reservation: toView(row, { id: actor.agentId, name: actor.agentName }),
      conflicts: [],
    };
  });
}

/** Locks one reservation of the caller's project for a change by its
 * holder; a 409 that says why otherwise (another agent's, released or
 * expired). */
async function lockOwnReservation(
  tx: Database,
  actor: AgentActor,
  reservationId: string,
  at: Date,
  verb: "renew" | "release",
): Promise<ReservationRow> {
  const [row] = await tx
    .select()
    .from(reservations)
    .where(eq(reservations.id, reservationId))
    .for("update");
  if (!row || row.projectId !== actor.projectId) {
    throw notFound("Reservation", reservationId);
  }
  const named = `Reservation ${row.id} (${row.globs.join(", ")})`;
  if (row.agentId !== actor.agentId) {
    const [holder] = await tx
      .select({ name: agents.name })
      .from(agents)
      .where(eq(agents.id, row.agentId))
      .limit(1);
    const holderName = holder?.name ?? row.agentId;
    throw conflict(
      `${named} is held by agent ${holderName}, not by you; ` +
        `only its holder may ${verb} it`,
      { holder: holderName, status: statusOf(row, at) },
    );
  }
  if (row.releasedAt) {
    throw conflict(
      `${named} was already released at ${row.releasedAt.toISOString()}`,
      {
        holder: actor.agentName,
        status: "released",
        releasedAt: row.releasedAt.toISOString(),
      },
    );
  }
  if (row.expiresAt <= at) {
    throw conflict(
      `${named} expired at ${row.expiresAt.toISOString()}; ` +
        (verb === "renew" ? "reserve the paths again" : "nothing to release"),
      {
        holder: actor.agentName,
        status: "expired",
        expiresAt: row.expiresAt.toISOString(),
      },
    );
  }

  return row;
}

function statusOf(row: ReservationRow, at: Date) {
  if (row.releasedAt) return "released";

  return row.expiresAt <= at ? "expired" : "live";
}

/** Extends the caller's live reservation to `ttlSeconds` (by default its
 * own length) from now. */
export async function renewReservation(
  db: Database,
  actor: AgentActor,
  input: unknown,
): Promise<{ reservation: ReservationView }> {
  const values = parseInput(renewReservationInput, input);
  await assertAgentActive(db, actor.agentId);
  await assertProjectActive(db, actor.projectId);

  return inTransaction(db, async (tx) => {
    const at = now();
    const row = await lockOwnReservation(
      tx,
      actor,
      values.reservationId,
      at,
      "renew",
    );
    const ttlSeconds = values.ttlSeconds ?? row.ttlSeconds;
    const [renewed] = await tx
      .update(reservations)
      .set({
        ttlSeconds,
        expiresAt: new Date(at.getTime() + ttlSeconds * 1000),
      })
      .where(eq(reservations.id, row.id))
      .returning();

    return {
      reservation: toView(renewed, {
        id: actor.agentId,
        name: actor.agentName,
      }),
    };
  });
}

/** Ends the caller's live reservation at once. A paused agent may still
 * give its holds back. */
export async function releaseReservation(
  db: Database,
  actor: AgentActor,
  input: unknown,
): Promise<{ released: true; reservation: ReservationView }> {
  const values = parseInput(releaseReservationInput, input);

  return inTransaction(db, async (tx) => {
    const at = now();
    const row = await lockOwnReservation(
      tx,
      actor,
      values.reservationId,
      at,
      "release",
    );
    const [released] = await tx
      .update(reservations)
      .set({ releasedAt: at })
      .where(eq(reservations.id, row.id))
      .returning();

    return {
      released: true,
      reservation: toView(released, {
        id: actor.agentId,
        name: actor.agentName,
      }),
    };
  });
}

async function liveReservations(db: Database, where: SQL | undefined) {
  const rows = await db
    .select({ row: reservations, agentName: agents.name })
    .from(reservations)
    .innerJoin(agents, eq(agents.id, reservations.agentId))
    .where(
      and(
        where,
        gt(reservations.expiresAt, now()),
        isNull(reservations.releasedAt),
      ),
    )
    .orderBy(asc(reservations.expiresAt), asc(reservations.id));

  return rows.map(({ row, agentName }) =>
    toView(row, { id: row.agentId, name: agentName }),
  );
}

/** The calling agent's live reservations, soonest to expire first. */
export async function listMyReservations(
  db: Database,
  actor: AgentActor,
): Promise<{ reservations: ReservationView[] }> {
  return {
    reservations: await liveReservations(
      db,
      and(
        eq(reservations.projectId, actor.projectId),
        eq(reservations.agentId, actor.agentId),
      ),
    ),
  };
}

/** A project's live reservations, for the console (viewer role). */
export async function listProjectReservations(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<ReservationView[]> {
  const values = parseInput(listProjectReservationsInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );

  return liveReservations(db, eq(reservations.projectId, project.id));
}

/**
 * Which of `paths` (concrete files, relative to the repository root)
 * another agent holds against the caller, precisely: a path is held when a
 * glob of another agent's live reservation or held task's scope matches it
 * (so "src/*.ts" holds "src/x.ts" but not "src/api/x.ts"). A shared
 * reservation of another agent does not hold a path the caller itself holds
 * a shared reservation on; everything else does. Two indexed queries.
 */
export async function checkPaths(
  db: Database,
  actor: AgentActor,
  input: unknown,
): Promise<{ paths: PathCheck[] }> {
  const values = parseInput(checkPathsInput, input);
  const paths = [...new Set(values.paths.map(normalizeGlob))];
  const at = now();
  // A concrete path is its own root, compared as literal text, so a file
  // named "app/[id]/page.tsx" is not read as a glob.
  const [reserved, held] = await Promise.all([
    reservationHolds(db, actor, paths, at, {
      exclusiveOnly: false,
      includeOwn: true,
    }),
    taskHolds(db, actor, paths, at),
  ]);
  const ownShared = reserved.filter(
    ({ row }) => row.agentId === actor.agentId && row.mode === "shared",
  );
  const theirs = reserved.filter(({ row }) => row.agentId !== actor.agentId);
  const candidates = [...held.map(taskHold), ...theirs.map(reservationHold)];

  return {
    paths: paths.map((path) => {
      const sharedByCaller = ownShared.some(({ row }) =>
        row.globs.some((glob) => pathMatches(path, glob)),
      );
      const holds: PathCheck["holds"] = [];
      for (const hold of candidates) {
        if (hold.mode === "shared" && sharedByCaller) continue;
        const matched = hold.globs.find((glob) => pathMatches(path, glob));
        if (matched !== undefined) holds.push({ ...hold, matched });
      }

      return { path, held: holds.length > 0, holds };
    }),
  };
}
