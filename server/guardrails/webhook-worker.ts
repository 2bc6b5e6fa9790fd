import crypto from "node:crypto";
import { sql } from "drizzle-orm";
import { type Database, queryRows } from "@/db/client";
import { config } from "@/server/config";
import { now } from "@/server/runtime";
import {
  type PeriodicHandle,
  startOncePerProcess,
  startPeriodic,
} from "@/server/periodic";

// Sends queued webhook deliveries. Each pass claims the due ones (FOR UPDATE
// SKIP LOCKED, and pushes their next attempt a minute out, so two workers
// never send one delivery at once and a worker that dies mid-send leaves it
// to be retried), POSTs them outside any transaction and records the
// outcome: a 2xx is delivered; anything else is retried after a growing
// pause, and after the last attempt the delivery is dead (the dead-letter
// list in the console, where an admin can retry it).

/** Pauses after the 1st, 2nd, ... failed attempt, in seconds. */
export const retryDelaysSeconds = [10, 30, 120, 600, 3600] as const;
/** Attempts before a delivery is dead. */
export const maxDeliveryAttempts = retryDelaysSeconds.length + 1;
/** How long a receiver has to answer. */
export const deliveryTimeoutMs = 5_000;
/** How long a claimed delivery stays out of other workers' reach. */
const CLAIM_SECONDS = 60;
const BATCH = 10;

export interface WebhookPayload {
  id: number;
  kind: string;
  severity: string;
  title: string;
  body: string;
  link: string | null;
  project: string;
  createdAt: string;
  details: Record<string, unknown> | null;
}

/** The X-Flotilla-Signature value for a raw body. */
export function signBody(secret: string, body: string): string {
  const digest = crypto.createHmac("sha256", secret).update(body).digest("hex");

  return `sha256=${digest}`;
}

export interface PostOutcome {
  ok: boolean;
  status: number | null;
  error: string | null;
}

export type Fetcher = typeof fetch;

/** POSTs one signed body; never throws. Redirects are not followed: the
 * receiver must answer at the URL it registered. */
export async function postWebhook(options: {
  url: string;
  secret: string;
  body: string;
  deliveryId: string;
  at: Date;
  fetcher?: Fetcher;
  timeoutMs?: number;
}): Promise<PostOutcome> {
  const fetcher = options.fetcher ?? fetch;
  try {
    const response = await fetcher(options.url, {
      method: "POST",
      redirect: "manual",
      signal: AbortSignal.timeout(options.timeoutMs ?? deliveryTimeoutMs),
      headers: {
        "content-type": "application/json",
        "user-agent": "Flotilla-Webhooks/1",
        "x-flotilla-signature": signBody(options.secret, options.body),
        "x-flotilla-timestamp": String(Math.floor(options.at.getTime() / 1000)),
        "x-flotilla-delivery": options.deliveryId,
      },
      body: options.body,
    });
    // The answer's body is not needed; dropping it frees the connection.
    await response.body?.cancel().catch(() => undefined);
    const ok = response.status >= 200 && response.status < 300;

    return {
      ok,
      status: response.status,
      error: ok ? null : `Receiver answered ${response.status}`,
    };
  } catch (error) {
    const reason =
      error instanceof Error && error.name === "TimeoutError"
        ? `No answer within ${(options.timeoutMs ?? deliveryTimeoutMs) / 1000} s`
        : describeFetchError(error);

    return { ok: false, status: null, error: reason };
  }
}

function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: { code?: string; message?: string } })
    .cause;
  const detail = cause?.code ?? cause?.message;

  return (detail ? `${error.message}: ${detail}` : error.message).slice(0, 500);
}

/** A console path made absolute with the instance's base URL. */
function absoluteLink(link: string | null): string | null {
  if (!link) return null;
  if (/^https?:\/\//i.test(link)) return link;

  return new URL(link, config().baseUrl).toString();
}

interface Claimed {
  id: string;
  attempts: number;
  url: string;
  secret: string;
  notification_id: string;
  kind: string;
  severity: string;
  title: string;
  body: string;
  link: string | null;
  details: Record<string, unknown> | string | null;
  created_at: string | Date;
  project_slug: string;
}

export function payloadJson(row: {
  notificationId: number;
  kind: string;
  severity: string;
  title: string;
  body: string;
  link: string | null;
  details: Record<string, unknown> | null;
  createdAt: Date;
  project: string;
}): string {
  const payload: WebhookPayload = {
    id: row.notificationId,
    kind: row.kind,
    severity: row.severity,
    title: row.title,
    body: row.body,
    link: absoluteLink(row.link),
    project: row.project,
    createdAt: row.createdAt.toISOString(),
    details: row.details,
  };

  return JSON.stringify(payload);
}

export interface DeliveryPass {
  delivered: number;
  retrying: number;
  dead: number;
}

/** One pass: claims up to a batch of due deliveries and sends them. */
export async function deliverDueWebhooks(
  db: Database,
  options: { fetcher?: Fetcher; timeoutMs?: number; limit?: number } = {},
): Promise<DeliveryPass> {
  const at = now();
  const claimedUntil = new Date(at.getTime() + CLAIM_SECONDS * 1000);
  const claimed = await queryRows<Claimed>(
    db,
    sql`
      with due as (
        select d.id from webhook_deliveries d
        join webhook_endpoints e on e.id = d.endpoint_id
        where d.status = 'pending' and e.active
          and d.next_attempt_at <= ${at.toISOString()}::timestamptz
        order by d.next_attempt_at, d.id
        limit ${options.limit ?? BATCH}
        for update of d skip locked
      ), claimed as (
        update webhook_deliveries d
        set next_attempt_at = ${claimedUntil.toISOString()}::timestamptz
        from due
        where d.id = due.id
        returning d.id, d.attempts, d.endpoint_id, d.notification_id
      )
      select c.id::text as id, c.attempts, e.url, e.secret,
        n.id::text as notification_id, n.kind, n.severity, n.title, n.body,
        n.link, n.details, n.created_at, p.slug as project_slug
      from claimed c
      join webhook_endpoints e on e.id = c.endpoint_id
      join notifications n on n.id = c.notification_id
      join projects p on p.id = n.project_id
    `,
  );
  const pass: DeliveryPass = { delivered: 0, retrying: 0, dead: 0 };
  await Promise.all(
    claimed.map(async (row) => {
      const details =
        typeof row.details === "string"
          ? (JSON.parse(row.details) as Record<string, unknown>)
          : row.details;
      const body = payloadJson({
        notificationId: Number(row.notification_id),
        kind: row.kind,
        severity: row.severity,
        title: row.title,
        body: row.body,
        link: row.link,
        details,
        createdAt: new Date(row.created_at),
        project: row.project_slug,
      });
      const outcome = await postWebhook({
        url: row.url,
        secret: row.secret,
        body,
        deliveryId: row.id,
        at,
        fetcher: options.fetcher,
        timeoutMs: options.timeoutMs,
      });
      const result = await recordOutcome(db, row, outcome);
      pass[result]++;
    }),
  );

  return pass;
}

async function recordOutcome(
  db: Database,
  row: Claimed,
  outcome: PostOutcome,
): Promise<keyof DeliveryPass> {
  // The time the answer came, so the pause counts from then.
  const at = now();
  const attempts = Number(row.attempts) + 1;
  const status = outcome.ok
    ? "delivered"
    : attempts >= maxDeliveryAttempts
      ? "dead"
      : "pending";
  const next =
    status === "pending"
      ? new Date(at.getTime() + retryDelaysSeconds[attempts - 1] * 1000)
      : at;
  // Only the claim this worker made: a row an admin retried meanwhile
  // (attempts reset) is left to the next pass.
  await db.execute(sql`
    update webhook_deliveries
    set attempts = ${attempts},
      status = ${status},
      next_attempt_at = ${next.toISOString()}::timestamptz,
      last_status = ${outcome.status},
      last_error = ${outcome.error},
      delivered_at = ${outcome.ok ? at.toISOString() : null}::timestamptz
    where id = ${Number(row.id)} and status = 'pending'
      and attempts = ${Number(row.attempts)}
  `);

  return status === "delivered"
    ? "delivered"
    : status === "dead"
      ? "dead"
      : "retrying";
}

export type WebhookWorkerHandle = PeriodicHandle;

/** Sends due deliveries every `intervalMs` until stopped; a failed pass is
 * reported and the next tick tries again. */
export function startWebhookWorker(options: {
  database: () => Promise<Database>;
  intervalMs?: number;
  onError?: (error: unknown) => void;
}): WebhookWorkerHandle {
  return startPeriodic({
    database: options.database,
    intervalMs: options.intervalMs ?? 5_000,
    onError: options.onError,
    async pass(db, stopped) {
      // Drain: a full batch means more may be due.
      for (;;) {
        const pass = await deliverDueWebhooks(db);
        const sent = pass.delivered + pass.retrying + pass.dead;
        if (stopped() || sent < BATCH) break;
      }
    },
  });
}

/** The app's own worker, started once per process however often start-up
 * code runs (dev reloads modules). */
export function startAppWebhookWorker(options: {
  database: () => Promise<Database>;
  onError: (error: unknown) => void;
}): WebhookWorkerHandle {
  return startOncePerProcess("flotilla.webhookWorker", () =>
    startWebhookWorker(options),
  );
}
