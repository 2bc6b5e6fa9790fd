import { and, desc, eq, inArray, isNull, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client";
import { notificationRecipients, notifications, projects } from "@/db/schema";
import { forbidden } from "@/server/errors";
import type { Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { parseInput } from "@/server/input";
import { now } from "@/server/runtime";

// A person's inbox: the notifications they are a recipient of, in one
// project or across all, unread first and then newest. Reading one marks it
// read for that person only.

type UserActor = Extract<Actor, { kind: "user" }>;

/** Leave project out for every project's notifications. */
const scopeInput = z.object({ project: z.string().min(1).optional() });

export const listNotificationsInput = scopeInput.extend({
  unreadOnly: z.boolean().default(false),
  limit: z.number().int().min(1).max(100).default(30),
  offset: z.number().int().min(0).default(0),
});

export const markReadInput = scopeInput.extend({
  ids: z
    .array(z.number().int().positive())
    .min(1, "Name at least one notification")
    .max(500),
});

function requirePerson(actor: Actor): UserActor {
  if (actor.kind !== "user") {
    throw forbidden("Only a signed-in person has a notification inbox");
  }

  return actor;
}

/** The recipient rows of this person, narrowed to a project when named. */
async function mine(
  db: Database,
  actor: Actor,
  project: string | undefined,
): Promise<{ person: UserActor; projectId: string | null; where: SQL }> {
  const person = requirePerson(actor);
  const conditions = [eq(notificationRecipients.userId, person.userId)];
  let projectId: string | null = null;
  if (project !== undefined) {
    const access = await requireProjectRole(db, actor, project, "viewer");
    projectId = access.project.id;
    conditions.push(eq(notifications.projectId, projectId));
  }

  return { person, projectId, where: and(...conditions) as SQL };
}

export async function listNotifications(
  db: Database,
  actor: Actor,
  input: z.input<typeof listNotificationsInput>,
) {
  const values = parseInput(listNotificationsInput, input);
  const { where } = await mine(db, actor, values.project);
  const filter = values.unreadOnly
    ? and(where, isNull(notificationRecipients.readAt))
    : where;
  const rows = await db
    .select({
      id: notifications.id,
      kind: notifications.kind,
      severity: notifications.severity,
      title: notifications.title,
      body: notifications.body,
      link: notifications.link,
      details: notifications.details,
      createdAt: notifications.createdAt,
      readAt: notificationRecipients.readAt,
      project: projects.slug,
      projectName: projects.name,
    })
    .from(notificationRecipients)
    .innerJoin(
      notifications,
      eq(notifications.id, notificationRecipients.notificationId),
    )
    .innerJoin(projects, eq(projects.id, notifications.projectId))
    .where(filter)
    .orderBy(
      sql`${notificationRecipients.readAt} is null desc`,
      desc(notifications.createdAt),
      desc(notifications.id),
    )
    .limit(values.limit)
    .offset(values.offset);
  const [counts] = await db
    .select({
      total: sql<number>`count(*)`,
      unread: sql<number>`count(*) filter (where ${notificationRecipients.readAt} is null)`,
    })
    .from(notificationRecipients)
    .innerJoin(
      notifications,
      eq(notifications.id, notificationRecipients.notificationId),
    )
    .where(filter);

  return {
    items: rows,
    total: Number(counts?.total ?? 0),
    unread: Number(counts?.unread ?? 0),
    limit: values.limit,
    offset: values.offset,
  };
}

/** How many of this person's notifications are unread. */
export async function unreadNotificationCount(
  db: Database,
  actor: Actor,
  input: z.input<typeof scopeInput>,
) {
  const values = parseInput(scopeInput, input);
  const { where } = await mine(db, actor, values.project);
  const [row] = await db
    .select({ unread: sql<number>`count(*)` })
    .from(notificationRecipients)
    .innerJoin(
      notifications,
      eq(notifications.id, notificationRecipients.notificationId),
    )
    .where(and(where, isNull(notificationRecipients.readAt)));

  return { unread: Number(row?.unread ?? 0) };
}

/** Marks some of this person's notifications read; others' are untouched. */
export async function markNotificationsRead(
  db: Database,
  actor: Actor,
  input: z.input<typeof markReadInput>,
) {
  const values = parseInput(markReadInput, input);

  return markRead(db, actor, values.project, values.ids);
}

/** Marks every unread notification of this person read (in one project
 * when named). */
export async function markAllNotificationsRead(
  db: Database,
  actor: Actor,
  input: z.input<typeof scopeInput>,
) {
  const values = parseInput(scopeInput, input);

  return markRead(db, actor, values.project, null);
}

async function markRead(
  db: Database,
  actor: Actor,
  project: string | undefined,
  ids: number[] | null,
) {
  const { person, projectId } = await mine(db, actor, project);
  const conditions = [
    eq(notificationRecipients.userId, person.userId),
    isNull(notificationRecipients.readAt),
  ];
  if (ids) conditions.push(inArray(notificationRecipients.notificationId, ids));
  if (projectId !== null) {
    conditions.push(
      inArray(
        notificationRecipients.notificationId,
        db
          .select({ id: notifications.id })
          .from(notifications)
          .where(eq(notifications.projectId, projectId)),
      ),
    );
  }
  const marked = await db
    .update(notificationRecipients)
    .set({ readAt: now() })
    .where(and(...conditions))
    .returning({ id: notificationRecipients.notificationId });

  return { marked: marked.length };
}
