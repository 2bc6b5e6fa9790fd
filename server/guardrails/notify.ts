import { sql } from "drizzle-orm";
import { type Database, queryRows } from "@/db/client";
import { notificationRecipients, notifications } from "@/db/schema";
import { escalationRecipientIds } from "@/server/orchestration/escalations";
import { now } from "@/server/runtime";
import type {
  NotificationKind,
  NotificationSeverity,
} from "./notification-kinds";
import { enqueueWebhookDeliveries } from "./webhooks";

// Raising a notification: one row, and a recipient row for each person who
// should see it. Recipients are the project's admins and operators, else the
// instance admins, else every user, so no notification is lost to an empty
// role. In the same transaction each active webhook endpoint of the project
// that subscribes to the kind gets a delivery queued (webhook-worker.ts
// sends it).

export type {
  NotificationKind,
  NotificationSeverity,
} from "./notification-kinds";

export interface NewNotification {
  projectId: string;
  kind: NotificationKind;
  severity: NotificationSeverity;
  title: string;
  body?: string;
  /** A console path where a person acts on it. */
  link?: string;
  details?: Record<string, unknown>;
  /** Notifications with the same key in a project are raised once. */
  dedupeKey?: string;
}

export interface RaisedNotification {
  id: number;
  recipients: string[];
}

/** Records a notification and its recipients in `tx`; returns null when
 * one with the same dedupe key already exists. */
export async function notify(
  tx: Database,
  values: NewNotification,
): Promise<RaisedNotification | null> {
  const createdAt = now();
  const [row] = await tx
    .insert(notifications)
    .values({
      projectId: values.projectId,
      kind: values.kind,
      severity: values.severity,
      title: values.title,
      body: values.body ?? "",
      link: values.link ?? null,
      details: values.details ?? null,
      dedupeKey: values.dedupeKey ?? null,
      createdAt,
    })
    .onConflictDoNothing({
      target: [notifications.projectId, notifications.dedupeKey],
    })
    .returning({ id: notifications.id });
  if (!row) return null;
  const recipients = await escalationRecipientIds(tx, values.projectId);
  if (recipients.length > 0) {
    await tx
      .insert(notificationRecipients)
      .values(recipients.map((userId) => ({ notificationId: row.id, userId })));
  }
  await enqueueWebhookDeliveries(tx, {
    projectId: values.projectId,
    notificationId: row.id,
    kind: values.kind,
    at: createdAt,
  });

  return { id: row.id, recipients };
}

/** Marks as read, for everyone, the "waits for approval" notifications of
 * approvals that are no longer pending (decided, expired or cancelled), in
 * one project or all; returns how many recipients' rows changed. A person
 * who decided in the queue should not find the item still unread. */
export async function settleApprovalNotifications(
  db: Database,
  projectId?: string,
): Promise<number> {
  const rows = await queryRows<{ notification_id: number }>(
    db,
    sql`update notification_recipients r set read_at = ${now().toISOString()}::timestamptz
      from notifications n, approvals a
      where r.notification_id = n.id and r.read_at is null
        and n.kind = 'approval_waiting'
        and n.dedupe_key = 'approval:' || a.id::text
        and a.project_id = n.project_id and a.status <> 'pending'
        ${projectId ? sql`and n.project_id = ${projectId}::uuid` : sql``}
      returning r.notification_id`,
  );

  return rows.length;
}
