import { and, desc, eq, gt, isNull, or, sql } from "drizzle-orm";
import { z } from "zod";
import { type Database, inTransaction } from "@/db/client";
import { agents, directives } from "@/db/schema";
import { conflict, forbidden, invalidInput, notFound } from "@/server/errors";
import { requireProjectRole } from "@/server/identity/access";
import { actorId, actorLabel, type Actor } from "@/server/identity/actor";
import { recordAudit } from "@/server/identity/audit";
import { parseInput } from "@/server/input";
import { newId, now } from "@/server/runtime";

// Directives: an operator's instruction to one agent. The agent hears of a
// new one in its next heartbeat or claim (server/orchestration/notices.ts)
// or when it lists its directives, and acknowledges it with an optional
// note. Cancelled and expired directives are no longer handed out.

export const directivePriorities = ["low", "normal", "high", "urgent"] as const;
export type DirectivePriority = (typeof directivePriorities)[number];

/** Where a directive stands; derived from its timestamps, never stored. */
export type DirectiveState =
  "pending" | "delivered" | "acknowledged" | "expired" | "cancelled";

type AgentActor = Extract<Actor, { kind: "agent" }>;
type DirectiveRow = typeof directives.$inferSelect;

const id = z.uuid("Must be a UUID");

export const sendDirectiveInput = z
  .object({
    project: z.string().min(1),
    /** The agent's id or name. */
    agent: z.string().trim().min(1, "Name the agent"),
    body: z
      .string()
      .trim()
      .min(1, "Write the directive")
      .max(10_000, "A directive is at most 10,000 characters"),
    priority: z.enum(directivePriorities).default("normal"),
    expiresAt: z.coerce.date({ error: "Must be a date" }).optional(),
  })
  .strict();

export const directiveIdInput = z.object({ directiveId: id });

export const listDirectivesInput = z.object({
  project: z.string().min(1),
  agent: z.string().trim().min(1).optional(),
  limit: z.number().int().min(1).max(500).default(100),
});

export const acknowledgeDirectiveInput = z
  .object({
    directiveId: id,
    note: z.string().trim().max(10_000).optional(),
  })
  .strict();

export interface DirectiveView {
  id: string;
  projectId: string;
  agent: { id: string; name: string };
  body: string;
  priority: DirectivePriority;
  state: DirectiveState;
  expiresAt: Date | null;
  createdBy: string;
  createdAt: Date;
  deliveredAt: Date | null;
  acknowledgedAt: Date | null;
  acknowledgement: string | null;
  cancelledAt: Date | null;
}

/** What an agent is handed: the instruction, not the bookkeeping. */
export interface AgentDirective {
  id: string;
  body: string;
  priority: DirectivePriority;
  expiresAt: Date | null;
  createdBy: string;
  createdAt: Date;
}

export function directiveState(row: DirectiveRow, at: Date): DirectiveState {
  if (row.cancelledAt) return "cancelled";
  if (row.acknowledgedAt) return "acknowledged";
  if (row.expiresAt && row.expiresAt <= at) return "expired";

  return row.deliveredAt ? "delivered" : "pending";
}

const priorityRank: Record<DirectivePriority, number> = {
  urgent: 0,
  high: 1,
  normal: 2,
  low: 3,
};

/** Most urgent first, then oldest. */
function byUrgency(a: DirectiveRow, b: DirectiveRow): number {
  const rank = (row: DirectiveRow) =>
    priorityRank[row.priority as DirectivePriority] ?? 2;

  return (
    rank(a) - rank(b) ||
    a.createdAt.getTime() - b.createdAt.getTime() ||
    a.id.localeCompare(b.id)
  );
}

function toAgentDirective(row: DirectiveRow): AgentDirective {
  return {
    id: row.id,
    body: row.body,
    priority: row.priority as DirectivePriority,
    expiresAt: row.expiresAt,
    createdBy: row.createdByLabel,
    createdAt: row.createdAt,
  };
}

function toView(row: DirectiveRow, agentName: string, at: Date) {
  return {
    id: row.id,
    projectId: row.projectId,
    agent: { id: row.agentId, name: agentName },
    body: row.body,
    priority: row.priority as DirectivePriority,
    state: directiveState(row, at),
    expiresAt: row.expiresAt,
    createdBy: row.createdByLabel,
    createdAt: row.createdAt,
    deliveredAt: row.deliveredAt,
    acknowledgedAt: row.acknowledgedAt,
    acknowledgement: row.acknowledgement,
    cancelledAt: row.cancelledAt,
  } satisfies DirectiveView;
}

/** Only people and the CLI instruct agents; an agent is an operator of its
 * own project but may not direct itself or its peers. */
function refuseAgents(actor: Actor, what: string) {
  if (actor.kind === "agent") {
    throw forbidden(`Only an operator may ${what}`);
  }
}

/** An agent of the project by id or name. */
export async function findProjectAgent(
  db: Database,
  projectId: string,
  agent: string,
  path = "agent",
) {
  const byId = z.uuid().safeParse(agent).success;
  const [row] = await db
    .select()
    .from(agents)
    .where(
      and(
        eq(agents.projectId, projectId),
        byId
          ? or(eq(agents.id, agent), eq(agents.name, agent))
          : eq(agents.name, agent),
      ),
    )
    .limit(1);
  if (!row) {
    throw invalidInput(`No agent '${agent}' in this project`, [
      { path, message: "No such agent in this project" },
    ]);
  }

  return row;
}

/** Writes a directive in `tx`; escalation resolutions send them too. */
export async function insertDirective(
  tx: Database,
  actor: Actor,
  values: {
    projectId: string;
    agentId: string;
    body: string;
    priority: DirectivePriority;
    expiresAt?: Date | null;
  },
): Promise<DirectiveRow> {
  const [row] = await tx
    .insert(directives)
    .values({
      id: newId(),
      projectId: values.projectId,
      agentId: values.agentId,
      body: values.body,
      priority: values.priority,
      expiresAt: values.expiresAt ?? null,
      createdById: actorId(actor),
      createdByLabel: actorLabel(actor),
      createdAt: now(),
    })
    .returning();

  return row;
}

export async function sendDirective(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<DirectiveView> {
  const values = parseInput(sendDirectiveInput, input);
  refuseAgents(actor, "send a directive");
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "operator",
  );
  const agent = await findProjectAgent(db, project.id, values.agent);
  const at = now();
  if (values.expiresAt && values.expiresAt <= at) {
    throw invalidInput("The expiry must be in the future", [
      { path: "expiresAt", message: "Must be in the future" },
    ]);
  }
  const row = await inTransaction(db, async (tx) => {
    const made = await insertDirective(tx, actor, {
      projectId: project.id,
      agentId: agent.id,
      body: values.body,
      priority: values.priority,
      expiresAt: values.expiresAt,
    });
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "directive.send",
      targetType: "directive",
      targetId: made.id,
      details: {
        agent: agent.name,
        priority: values.priority,
        expiresAt: values.expiresAt?.toISOString() ?? null,
      },
    });

    return made;
  });

  return toView(row, agent.name, at);
}

/** Withdraws a directive the agent has not acknowledged yet. */
export async function cancelDirective(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<DirectiveView> {
  const { directiveId } = parseInput(directiveIdInput, input);
  refuseAgents(actor, "cancel a directive");
  const found = await findDirective(db, directiveId);
  await requireProjectRole(db, actor, found.row.projectId, "operator");
  const at = now();
  const row = await inTransaction(db, async (tx) => {
    const [current] = await tx
      .select()
      .from(directives)
      .where(eq(directives.id, directiveId))
      .for("update");
    if (!current) throw notFound("Directive", directiveId);
    const state = directiveState(current, at);
    if (state === "acknowledged" || state === "cancelled") {
      throw conflict(`The directive is already ${state}`, { state });
    }
    const [cancelled] = await tx
      .update(directives)
      .set({ cancelledAt: at })
      .where(eq(directives.id, directiveId))
      .returning();
    await recordAudit(tx, actor, {
      projectId: current.projectId,
      action: "directive.cancel",
      targetType: "directive",
      targetId: current.id,
      details: { agent: found.agentName, previousState: state },
    });

    return cancelled;
  });

  return toView(row, found.agentName, at);
}

async function findDirective(db: Database, directiveId: string) {
  const [found] = await db
    .select({ row: directives, agentName: agents.name })
    .from(directives)
    .innerJoin(agents, eq(agents.id, directives.agentId))
    .where(eq(directives.id, directiveId))
    .limit(1);
  if (!found) throw notFound("Directive", directiveId);

  return found;
}

/** The console's list: a project's directives (or one agent's), newest
 * first, each with its state. */
export async function listDirectives(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<DirectiveView[]> {
  const values = parseInput(listDirectivesInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );
  const agent = values.agent
    ? await findProjectAgent(db, project.id, values.agent)
    : null;
  const rows = await db
    .select({ row: directives, agentName: agents.name })
    .from(directives)
    .innerJoin(agents, eq(agents.id, directives.agentId))
    .where(
      and(
        eq(directives.projectId, project.id),
        agent ? eq(directives.agentId, agent.id) : undefined,
      ),
    )
    .orderBy(desc(directives.createdAt), desc(directives.id))
    .limit(values.limit);
  const at = now();

  return rows.map(({ row, agentName }) => toView(row, agentName, at));
}

/** Live and not yet acknowledged: what an agent still has to act on. */
function outstanding(agentId: string, at: Date) {
  return and(
    eq(directives.agentId, agentId),
    isNull(directives.cancelledAt),
    isNull(directives.acknowledgedAt),
    or(isNull(directives.expiresAt), gt(directives.expiresAt, at)),
  );
}

/**
 * Marks the agent's outstanding directives that were never handed out as
 * delivered and returns them, most urgent first. The update itself picks
 * the rows, so two concurrent calls never both deliver the same directive.
 */
export async function deliverNewDirectives(
  db: Database,
  agentId: string,
  at: Date,
): Promise<AgentDirective[]> {
  const rows = await db
    .update(directives)
    .set({ deliveredAt: at })
    .where(and(outstanding(agentId, at), isNull(directives.deliveredAt)))
    .returning();

  return rows.sort(byUrgency).map(toAgentDirective);
}

/** GET /directives: every directive the agent has not acknowledged yet,
 * delivered before or not; the first read marks each delivered. */
export async function agentDirectives(
  db: Database,
  actor: AgentActor,
): Promise<{ directives: AgentDirective[] }> {
  const at = now();
  // Marked first, then read: whatever is read was handed out by now.
  await deliverNewDirectives(db, actor.agentId, at);
  const rows = await db
    .select()
    .from(directives)
    .where(outstanding(actor.agentId, at));

  return { directives: rows.sort(byUrgency).map(toAgentDirective) };
}

/** The addressee acknowledges a directive, with an optional note. A repeat
 * acknowledgement without a note or with the same note changes nothing and
 * answers as the first did; one with a different note is a 409. */
export async function acknowledgeDirective(
  db: Database,
  actor: AgentActor,
  input: unknown,
): Promise<{ directive: AgentDirective & { acknowledgedAt: Date } }> {
  const values = parseInput(acknowledgeDirectiveInput, input);
  const at = now();
  const row = await inTransaction(db, async (tx) => {
    const [current] = await tx
      .select()
      .from(directives)
      .where(eq(directives.id, values.directiveId))
      .for("update");
    if (!current || current.projectId !== actor.projectId) {
      throw notFound("Directive", values.directiveId);
    }
    if (current.agentId !== actor.agentId) {
      const [owner] = await tx
        .select({ name: agents.name })
        .from(agents)
        .where(eq(agents.id, current.agentId));
      throw conflict(
        `This directive is for agent ${owner?.name ?? current.agentId}, ` +
          "not for you",
        { agent: owner?.name ?? current.agentId },
      );
    }
    const state = directiveState(current, at);
    if (state === "acknowledged") {
      // The same note again is a retry and answers as the first did; a
      // different one would be lost, so it is refused.
      const note = values.note || null;
      if (note !== null && note !== current.acknowledgement) {
        throw conflict(
          `This directive was already acknowledged at ` +
            `${current.acknowledgedAt?.toISOString()} with note ` +
            (current.acknowledgement === null
              ? "(none)"
              : JSON.stringify(current.acknowledgement)),
          {
            state,
            acknowledgedAt: current.acknowledgedAt?.toISOString() ?? null,
            acknowledgement: current.acknowledgement,
          },
        );
      }

      return current;
    }
    if (state === "cancelled") {
      throw conflict(
        `This directive was cancelled at ${current.cancelledAt?.toISOString()}`,
        { state },
      );
    }
    if (state === "expired") {
      throw conflict(
        `This directive expired at ${current.expiresAt?.toISOString()}`,
        { state },
      );
    }
    const [acknowledged] = await tx
      .update(directives)
      .set({
        acknowledgedAt: at,
        acknowledgement: values.note || null,
        deliveredAt: sql`coalesce(${directives.deliveredAt}, ${at.toISOString()}::timestamptz)`,
      })
      .where(eq(directives.id, current.id))
      .returning();

    return acknowledged;
  });

  return {
    directive: {
      ...toAgentDirective(row),
      acknowledgedAt: row.acknowledgedAt ?? at,
    },
  };
}
