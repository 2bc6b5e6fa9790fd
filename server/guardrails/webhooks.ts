import { and, desc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { type Database, inTransaction, queryRows } from "@/db/client";
import {
  notifications,
  webhookDeliveries,
  webhookEndpoints,
} from "@/db/schema";
import { conflict, notFound } from "@/server/errors";
import type { Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { recordAudit } from "@/server/identity/audit";
import { parseInput } from "@/server/input";
import { newId, now, randomToken } from "@/server/runtime";
import { notificationKinds, type NotificationKind } from "./notification-kinds";
import { payloadJson, postWebhook, type Fetcher } from "./webhook-worker";

// Outbound webhook endpoints of a project: admins add, change, remove and
// test them, read their recent deliveries and retry dead ones; everything
// they change is audited. The secret signs each body; Flotilla generates it
// (or takes the admin's) and shows it once, when the endpoint is added.

const projectInput = z.object({ project: z.string().min(1) });

const webhookUrl = z
  .string()
  .trim()
  .max(2000, "URL must be at most 2,000 characters")
  .refine((value) => {
    try {
      const url = new URL(value);

      return url.protocol === "http:" || url.protocol === "https:";
    } catch {
      return false;
    }
  }, "URL must be an http:// or https:// address");

const kindsFilter = z
  .array(
    z.enum(notificationKinds, {
      error: `Kinds are ${notificationKinds.join(", ")}`,
    }),
  )
  .max(notificationKinds.length)
  .transform((kinds) => [...new Set(kinds)]);

export const createWebhookInput = z
  .object({
    project: z.string().min(1),
    url: webhookUrl,
    /** Leave out to have Flotilla generate one. */
    secret: z
      .string()
      .trim()
      .min(16, "A secret needs at least 16 characters")
      .max(256, "A secret may have at most 256 characters")
      .optional(),
    /** Notification kinds to send; empty sends every kind. */
    kinds: kindsFilter.default([]),
  })
  .strict();

export const updateWebhookInput = z
  .object({
    project: z.string().min(1),
    endpoint: z.uuid("Endpoint must be an endpoint id"),
    url: webhookUrl.optional(),
    kinds: kindsFilter.optional(),
    active: z.boolean().optional(),
  })
  .strict();

export const endpointInput = z.object({
  project: z.string().min(1),
  endpoint: z.uuid("Endpoint must be an endpoint id"),
});

export const listDeliveriesInput = z.object({
  project: z.string().min(1),
  status: z.enum(["all", "pending", "delivered", "dead"]).default("all"),
  limit: z.number().int().min(1).max(200).default(50),
});

export const retryDeliveryInput = z.object({
  project: z.string().min(1),
  delivery: z.number().int().positive("Delivery must be a delivery id"),
});

type Endpoint = typeof webhookEndpoints.$inferSelect;

/** An endpoint as the console shows it: never its secret. */
function publicEndpoint(endpoint: Endpoint) {
  const { secret: _secret, ...rest } = endpoint;

  return rest;
}

async function adminProject(db: Database, actor: Actor, slug: string) {
  return (await requireProjectRole(db, actor, slug, "admin")).project;
}

async function findEndpoint(db: Database, projectId: string, id: string) {
  const [endpoint] = await db
    .select()
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.id, id),
        eq(webhookEndpoints.projectId, projectId),
      ),
    )
    .limit(1);
  if (!endpoint) throw notFound("Webhook endpoint", id);

  return endpoint;
}

/** The project's endpoints with how many deliveries wait or are dead. */
export async function listWebhooks(
  db: Database,
  actor: Actor,
  input: z.input<typeof projectInput>,
) {
  const values = parseInput(projectInput, input);
  const project = await adminProject(db, actor, values.project);
  const rows = await db
    .select({
      endpoint: webhookEndpoints,
      pending: sql<number>`count(*) filter (where ${webhookDeliveries.status} = 'pending')`,
      dead: sql<number>`count(*) filter (where ${webhookDeliveries.status} = 'dead')`,
      lastDeliveredAt: sql<
        string | null
      >`max(${webhookDeliveries.deliveredAt})`,
    })
    .from(webhookEndpoints)
    .leftJoin(
      webhookDeliveries,
      eq(webhookDeliveries.endpointId, webhookEndpoints.id),
    )
    .where(eq(webhookEndpoints.projectId, project.id))
    .groupBy(webhookEndpoints.id)
    .orderBy(webhookEndpoints.createdAt);

  return rows.map((row) => ({
    ...publicEndpoint(row.endpoint),
    pending: Number(row.pending),
    dead: Number(row.dead),
    lastDeliveredAt: row.lastDeliveredAt ? new Date(row.lastDeliveredAt) : null,
  }));
}

/** Adds an endpoint; the answer holds the secret, the only time it is
 * shown. */
export async function createWebhook(
  db: Database,
  actor: Actor,
  input: z.input<typeof createWebhookInput>,
) {
  const values = parseInput(createWebhookInput, input);
  const project = await adminProject(db, actor, values.project);
  const secret = values.secret ?? `whsec_${randomToken(24)}`;

  return inTransaction(db, async (tx) => {
    const [endpoint] = await tx
      .insert(webhookEndpoints)
      .values({
        id: newId(),
        projectId: project.id,
        url: values.url,
        secret,
        kinds: values.kinds,
        active: true,
        createdBy: actor.kind === "user" ? actor.email : actor.kind,
        createdAt: now(),
      })
      .returning();
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "webhook.add",
      targetType: "webhook_endpoint",
      targetId: endpoint.id,
      details: {
        url: endpoint.url,
        kinds: endpoint.kinds,
        secretGiven: values.secret !== undefined,
      },
    });

    return { endpoint: publicEndpoint(endpoint), secret };
  });
}

export async function updateWebhook(
  db: Database,
  actor: Actor,
  input: z.input<typeof updateWebhookInput>,
) {
  const values = parseInput(updateWebhookInput, input);
  const project = await adminProject(db, actor, values.project);
  const before = await findEndpoint(db, project.id, values.endpoint);
  const changes: Partial<Endpoint> = {};
  if (values.url !== undefined) changes.url = values.url;
  if (values.kinds !== undefined) changes.kinds = values.kinds;
  if (values.active !== undefined) changes.active = values.active;
  if (Object.keys(changes).length === 0) return publicEndpoint(before);

  return inTransaction(db, async (tx) => {
    const [endpoint] = await tx
      .update(webhookEndpoints)
      .set(changes)
      .where(eq(webhookEndpoints.id, before.id))
      .returning();
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "webhook.update",
      targetType: "webhook_endpoint",
      targetId: endpoint.id,
      details: {
        before: { url: before.url, kinds: before.kinds, active: before.active },
        after: {
          url: endpoint.url,
          kinds: endpoint.kinds,
          active: endpoint.active,
        },
      },
    });

    return publicEndpoint(endpoint);
  });
}

/** Removes an endpoint and its deliveries. */
export async function removeWebhook(
  db: Database,
  actor: Actor,
  input: z.input<typeof endpointInput>,
) {
  const values = parseInput(endpointInput, input);
  const project = await adminProject(db, actor, values.project);

  return inTransaction(db, async (tx) => {
    const [removed] = await tx
      .delete(webhookEndpoints)
      .where(
        and(
          eq(webhookEndpoints.id, values.endpoint),
          eq(webhookEndpoints.projectId, project.id),
        ),
      )
      .returning();
    if (!removed) throw notFound("Webhook endpoint", values.endpoint);
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "webhook.remove",
      targetType: "webhook_endpoint",
      targetId: removed.id,
      details: { url: removed.url, kinds: removed.kinds },
    });

    return publicEndpoint(removed);
  });
}

/** Recent deliveries of the project's endpoints, newest first; status
 * "dead" is the dead-letter list. */
export async function listDeliveries(
  db: Database,
  actor: Actor,
  input: z.input<typeof listDeliveriesInput>,
) {
  const values = parseInput(listDeliveriesInput, input);
  const project = await adminProject(db, actor, values.project);
  const rows = await db
    .select({
      delivery: webhookDeliveries,
      url: webhookEndpoints.url,
      kind: notifications.kind,
      title: notifications.title,
    })
    .from(webhookDeliveries)
    .innerJoin(
      webhookEndpoints,
      eq(webhookEndpoints.id, webhookDeliveries.endpointId),
    )
    .innerJoin(
      notifications,
      eq(notifications.id, webhookDeliveries.notificationId),
    )
    .where(
      and(
        eq(webhookEndpoints.projectId, project.id),
        values.status === "all"
          ? undefined
          : eq(webhookDeliveries.status, values.status),
      ),
    )
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(values.limit);

  return rows.map((row) => ({
    ...row.delivery,
    url: row.url,
    kind: row.kind,
    title: row.title,
  }));
}

/** Sends a dead delivery again: its attempts start over, due at once. */
export async function retryDelivery(
  db: Database,
  actor: Actor,
  input: z.input<typeof retryDeliveryInput>,
) {
  const values = parseInput(retryDeliveryInput, input);
  const project = await adminProject(db, actor, values.project);

  return inTransaction(db, async (tx) => {
    const [found] = await tx
      .select({ delivery: webhookDeliveries })
      .from(webhookDeliveries)
      .innerJoin(
        webhookEndpoints,
        eq(webhookEndpoints.id, webhookDeliveries.endpointId),
      )
      .where(
        and(
          eq(webhookDeliveries.id, values.delivery),
          eq(webhookEndpoints.projectId, project.id),
        ),
      )
      .for("update", { of: webhookDeliveries });
    if (!found) throw notFound("Webhook delivery", String(values.delivery));
    if (found.delivery.status !== "dead") {
      throw conflict(
        `Delivery ${values.delivery} is ${found.delivery.status}; only a ` +
          "dead delivery can be retried",
        { status: found.delivery.status },
      );
    }
    const [delivery] = await tx
      .update(webhookDeliveries)
      .set({ status: "pending", attempts: 0, nextAttemptAt: now() })
      .where(eq(webhookDeliveries.id, values.delivery))
      .returning();
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "webhook.delivery.retry",
      targetType: "webhook_delivery",
      targetId: String(delivery.id),
      details: {
        endpointId: delivery.endpointId,
        notificationId: delivery.notificationId,
        attemptsBefore: found.delivery.attempts,
        lastError: found.delivery.lastError,
      },
    });

    return delivery;
  });
}

/** POSTs a signed test body to an endpoint now and says how it answered;
 * nothing is queued or retried. */
export async function sendTestWebhook(
  db: Database,
  actor: Actor,
  input: z.input<typeof endpointInput>,
  options: { fetcher?: Fetcher } = {},
) {
  const values = parseInput(endpointInput, input);
  const project = await adminProject(db, actor, values.project);
  const endpoint = await findEndpoint(db, project.id, values.endpoint);
  const at = now();
  const body = payloadJson({
    notificationId: 0,
    kind: "test",
    severity: "info",
    title: "Test from Flotilla",
    body: "An admin sent this from the project settings to check the endpoint.",
    link: `/projects/${project.slug}/settings`,
    details: null,
    createdAt: at,
    project: project.slug,
  });
  const outcome = await postWebhook({
    url: endpoint.url,
    secret: endpoint.secret,
    body,
    deliveryId: `test-${newId()}`,
    at,
    fetcher: options.fetcher,
  });
  await recordAudit(db, actor, {
    projectId: project.id,
    action: "webhook.test",
    targetType: "webhook_endpoint",
    targetId: endpoint.id,
    details: { url: endpoint.url, ...outcome },
  });

  return outcome;
}

/** Queues a delivery of a new notification to each active endpoint of its
 * project that takes its kind. notify() calls this in its transaction. */
export async function enqueueWebhookDeliveries(
  tx: Database,
  values: {
    projectId: string;
    notificationId: number;
    kind: NotificationKind;
    at: Date;
  },
): Promise<number> {
  const at = values.at.toISOString();
  const queued = await queryRows<{ id: string }>(
    tx,
    sql`
      insert into webhook_deliveries
        (endpoint_id, notification_id, status, attempts, next_attempt_at,
         created_at)
      select e.id, ${values.notificationId}, 'pending', 0,
        ${at}::timestamptz, ${at}::timestamptz
      from webhook_endpoints e
      where e.project_id = ${values.projectId} and e.active
        and (cardinality(e.kinds) = 0 or ${values.kind} = any(e.kinds))
      on conflict do nothing
      returning id
    `,
  );

  return queued.length;
}
