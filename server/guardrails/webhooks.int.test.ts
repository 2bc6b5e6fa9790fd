import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { inTransaction, type DatabaseHandle } from "@/db/client";
import { auditLog, webhookDeliveries } from "@/db/schema";
import type { NotificationKind } from "@/server/guardrails/notification-kinds";
import { setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { pinClock, rejection } from "@/tests/failures";
import { addMember, makeProject, makeUser } from "@/tests/fixtures";
import { notify } from "./notify";
import { deliverDueWebhooks, maxDeliveryAttempts } from "./webhook-worker";
import {
  createWebhook,
  listDeliveries,
  listWebhooks,
  removeWebhook,
  retryDelivery,
  sendTestWebhook,
  updateWebhook,
} from "./webhooks";

// Outbound webhooks against receivers this test starts on 127.0.0.1: the
// body is signed with the endpoint's secret, failures are retried after
// 10 s, 30 s, ... and end dead after the last attempt, and an admin can send
// a dead delivery again.

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  verified: boolean;
}

/** A loopback receiver that checks each signature against `secret` and
 * answers with the next status of `statuses` (200 once they run out). */
async function receiver(secret: () => string, statuses: number[] = []) {
  const received: Received[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const expected =
        "sha256=" +
        crypto.createHmac("sha256", secret()).update(body).digest("hex");
      const given = String(request.headers["x-flotilla-signature"] ?? "");
      const verified =
        given.length === expected.length &&
        crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected));
      received.push({ headers: request.headers, body, verified });
      response.statusCode = verified ? (statuses.shift() ?? 200) : 401;
      response.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/hooks/flotilla`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe.each(testKinds)("webhooks on %s", (kind) => {
  let handle: DatabaseHandle;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
  });
  afterAll(async () => handle.close());
  afterEach(async () => {
    setClock(null);
    while (closers.length > 0) await closers.pop()?.();
  });

  async function setup() {
    const db = handle.db;
    const project = await makeProject(db);
    const admin = await makeUser(db, "viewer");
    const operator = await makeUser(db, "viewer");
    for (const [person, role] of [
      [admin, "admin"],
      [operator, "operator"],
    ] as const) {
      await addMember(db, project.id, person.user.id, role);
    }

    return { db, project, admin, operator };
  }

  async function listen(statuses: number[] = []) {
    let secret = "";
    const server = await receiver(() => secret, statuses);
    closers.push(server.close);

    return { ...server, setSecret: (value: string) => (secret = value) };
  }

  function raise(
    projectId: string,
    kindOf: NotificationKind = "red_flag",
    title = "Critical red flag",
  ) {
    return inTransaction(handle.db, (tx) =>
      notify(tx, {
        projectId,
        kind: kindOf,
        severity: "critical",
        title,
        body: "rm -rf /",
        link: "/projects/p/sessions/s",
        details: { rule: "shell.recursive-delete" },
      }),
    );
  }

  async function deliveriesOf(endpointId: string) {
    return handle.db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.endpointId, endpointId))
      .orderBy(webhookDeliveries.id);
  }

  it("lets admins alone manage endpoints, shows the secret once, audits", async () => {
    const { db, project, admin, operator } = await setup();
    const input = {
      project: project.slug,
      url: "https://hooks.example.test/x",
    };

    expect(
      (await rejection(createWebhook(db, operator.actor, input))).status,
    ).toBe(403);
    expect(
      (await rejection(listWebhooks(db, operator.actor, input))).status,
    ).toBe(403);
    const badUrl = await rejection(
      createWebhook(db, admin.actor, { ...input, url: "ftp://example.test" }),
    );
    expect(badUrl).toMatchObject({
      status: 400,
      details: [
        { path: "url", message: "URL must be an http:// or https:// address" },
      ],
    });
    expect(
      (
        await rejection(
          createWebhook(db, admin.actor, { ...input, secret: "short" }),
        )
      ).status,
    ).toBe(400);
    // A misspelt field is refused rather than silently ignored.
    expect(
      await rejection(
        createWebhook(db, admin.actor, {
          ...input,
          kind: ["red_flag"],
        } as typeof input),
      ),
    ).toMatchObject({ status: 400 });

    const made = await createWebhook(db, admin.actor, input);
    expect(made.secret).toMatch(/^whsec_[\w-]{32}$/);
    const given = await createWebhook(db, admin.actor, {
      ...input,
      secret: "my-own-secret-of-24-chars",
      kinds: ["budget_threshold", "budget_threshold", "approval_waiting"],
    });
    expect(given.secret).toBe("my-own-secret-of-24-chars");
    expect(given.endpoint.kinds).toEqual([
      "budget_threshold",
      "approval_waiting",
    ]);

    const listed = await listWebhooks(db, admin.actor, input);
    expect(listed.map((e) => e.id)).toEqual([
      made.endpoint.id,
      given.endpoint.id,
    ]);
    expect(JSON.stringify(listed)).not.toContain(made.secret);
    expect(JSON.stringify(listed)).not.toContain("my-own-secret");

    await updateWebhook(db, admin.actor, {
      project: project.slug,
      endpoint: made.endpoint.id,
      active: false,
    });
    await removeWebhook(db, admin.actor, {
      project: project.slug,
      endpoint: given.endpoint.id,
    });
    const actions = await db
      .select({ action: auditLog.action, details: auditLog.details })
      .from(auditLog)
      .where(eq(auditLog.projectId, project.id))
      .orderBy(auditLog.createdAt, auditLog.id);
    expect(actions.map((a) => a.action)).toEqual([
      "webhook.add",
      "webhook.add",
      "webhook.update",
      "webhook.remove",
    ]);
    expect(JSON.stringify(actions)).not.toContain(made.secret);
  });

  it("queues a delivery per subscribed active endpoint, signed for the receiver", async () => {
    const { db, project, admin } = await setup();
    const server = await listen();
    const all = await createWebhook(db, admin.actor, {
      project: project.slug,
      url: server.url,
    });
    server.setSecret(all.secret);
    const budgetsOnly = await createWebhook(db, admin.actor, {
      project: project.slug,
      url: server.url,
      kinds: ["budget_exhausted"],
    });
    const paused = await createWebhook(db, admin.actor, {
      project: project.slug,
      url: server.url,
    });
    await updateWebhook(db, admin.actor, {
      project: project.slug,
      endpoint: paused.endpoint.id,
      active: false,
    });

    const raised = await raise(project.id);
    expect(await deliveriesOf(all.endpoint.id)).toHaveLength(1);
    expect(await deliveriesOf(budgetsOnly.endpoint.id)).toHaveLength(0);
    expect(await deliveriesOf(paused.endpoint.id)).toHaveLength(0);

    expect(await deliverDueWebhooks(db)).toEqual({
      delivered: 1,
      retrying: 0,
      dead: 0,
    });
    expect(server.received).toHaveLength(1);
    const [hit] = server.received;
    expect(hit.verified).toBe(true);
    const [delivery] = await deliveriesOf(all.endpoint.id);
    expect(hit.headers["x-flotilla-delivery"]).toBe(String(delivery.id));
    expect(hit.headers["x-flotilla-timestamp"]).toMatch(/^\d{10}$/);
    expect(hit.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(hit.body)).toMatchObject({
      id: raised?.id,
      kind: "red_flag",
      severity: "critical",
      title: "Critical red flag",
      body: "rm -rf /",
      project: project.slug,
      details: { rule: "shell.recursive-delete" },
    });
    expect(JSON.parse(hit.body).link).toMatch(
      /^https?:\/\/.+\/projects\/p\/sessions\/s$/,
    );
    expect(delivery).toMatchObject({
      status: "delivered",
      attempts: 1,
      lastStatus: 200,
    });
    // Nothing is sent twice.
    expect(await deliverDueWebhooks(db)).toEqual({
      delivered: 0,
      retrying: 0,
      dead: 0,
    });

    // A receiver holding the wrong secret refuses the body.
    const stale = await listen();
    stale.setSecret("not-the-secret-at-all");
    const wrong = await createWebhook(db, admin.actor, {
      project: project.slug,
      url: stale.url,
    });
    expect(
      await sendTestWebhook(db, admin.actor, {
        project: project.slug,
        endpoint: wrong.endpoint.id,
      }),
    ).toEqual({ ok: false, status: 401, error: "Receiver answered 401" });
    stale.setSecret(wrong.secret);
    expect(
      await sendTestWebhook(db, admin.actor, {
        project: project.slug,
        endpoint: wrong.endpoint.id,
      }),
    ).toEqual({ ok: true, status: 200, error: null });
    expect(JSON.parse(stale.received[1].body)).toMatchObject({
      kind: "test",
      project: project.slug,
    });
  });

  it("retries after 10 s and 30 s, then delivers", async () => {
    const { db, project, admin } = await setup();
    const clock = pinClock();
    const server = await listen([500, 503]);
    const made = await createWebhook(db, admin.actor, {
      project: project.slug,
      url: server.url,
    });
    server.setSecret(made.secret);
    await raise(project.id);
    const state = async () => {
      const [delivery] = await deliveriesOf(made.endpoint.id);

      return {
        status: delivery.status,
        attempts: delivery.attempts,
        wait: (delivery.nextAttemptAt.getTime() - clock.at().getTime()) / 1000,
        lastStatus: delivery.lastStatus,
      };
    };

    expect((await deliverDueWebhooks(db)).retrying).toBe(1);
    expect(await state()).toEqual({
      status: "pending",
      attempts: 1,
      wait: 10,
      lastStatus: 500,
    });
    clock.advance(9);
    expect((await deliverDueWebhooks(db)).retrying).toBe(0);
    expect(server.received).toHaveLength(1);
    clock.advance(1);
    expect((await deliverDueWebhooks(db)).retrying).toBe(1);
    expect(await state()).toMatchObject({
      attempts: 2,
      wait: 30,
      lastStatus: 503,
    });
    clock.advance(30);
    expect((await deliverDueWebhooks(db)).delivered).toBe(1);
    expect(await state()).toMatchObject({ status: "delivered", attempts: 3 });
    expect(server.received.map((r) => r.verified)).toEqual([true, true, true]);
    // The same delivery id each time, so a receiver can drop repeats.
    expect(
      new Set(server.received.map((r) => r.headers["x-flotilla-delivery"]))
        .size,
    ).toBe(1);
  });

  it("is dead after the last attempt, and a retry from the dead-letter list delivers", async () => {
    const { db, project, admin, operator } = await setup();
    const clock = pinClock();
    const failures = Array.from({ length: maxDeliveryAttempts }, () => 500);
    const server = await listen(failures);
    const made = await createWebhook(db, admin.actor, {
      project: project.slug,
      url: server.url,
    });
    server.setSecret(made.secret);
    await raise(project.id);

    const waits: number[] = [];
    for (let attempt = 1; attempt <= maxDeliveryAttempts; attempt++) {
      await deliverDueWebhooks(db);
      const [delivery] = await deliveriesOf(made.endpoint.id);
      const wait =
        (delivery.nextAttemptAt.getTime() - clock.at().getTime()) / 1000;
      if (delivery.status === "pending") waits.push(wait);
      clock.advance(wait);
    }
    expect(waits).toEqual([10, 30, 120, 600, 3600]);
    expect(maxDeliveryAttempts).toBe(6);
    const [dead] = await deliveriesOf(made.endpoint.id);
    expect(dead).toMatchObject({
      status: "dead",
      attempts: 6,
      lastStatus: 500,
      lastError: "Receiver answered 500",
    });
    clock.advance(86_400);
    await deliverDueWebhooks(db);
    expect(server.received).toHaveLength(6);

    const deadLetters = await listDeliveries(db, admin.actor, {
      project: project.slug,
      status: "dead",
    });
    expect(deadLetters.map((d) => [d.id, d.url, d.kind])).toEqual([
      [dead.id, server.url, "red_flag"],
    ]);
    expect(
      (
        await rejection(
          retryDelivery(db, operator.actor, {
            project: project.slug,
            delivery: dead.id,
          }),
        )
      ).status,
    ).toBe(403);
    await retryDelivery(db, admin.actor, {
      project: project.slug,
      delivery: dead.id,
    });
    expect(
      (
        await rejection(
          retryDelivery(db, admin.actor, {
            project: project.slug,
            delivery: dead.id,
          }),
        )
      ).status,
    ).toBe(409);
    expect((await deliverDueWebhooks(db)).delivered).toBe(1);
    const [delivered] = await deliveriesOf(made.endpoint.id);
    expect(delivered).toMatchObject({ status: "delivered", attempts: 1 });
    const [audit] = await db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.projectId, project.id),
          eq(auditLog.action, "webhook.delivery.retry"),
        ),
      );
    expect(audit.targetId).toBe(String(dead.id));
  });

  it("gives up on a receiver that does not answer within the timeout", async () => {
    const { db, project, admin } = await setup();
    const sockets = new Set<import("node:net").Socket>();
    const silent = http.createServer(() => {
      // Never answers.
    });
    silent.on("connection", (socket) => sockets.add(socket));
    await new Promise<void>((resolve) =>
      silent.listen(0, "127.0.0.1", resolve),
    );
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          silent.close(() => resolve());
        }),
    );
    const { port } = silent.address() as AddressInfo;
    const made = await createWebhook(db, admin.actor, {
      project: project.slug,
      url: `http://127.0.0.1:${port}/`,
    });
    await raise(project.id);
    expect((await deliverDueWebhooks(db, { timeoutMs: 200 })).retrying).toBe(1);
    const [delivery] = await deliveriesOf(made.endpoint.id);
    expect(delivery).toMatchObject({
      status: "pending",
      lastStatus: null,
      lastError: "No answer within 0.2 s",
    });
  });

  it("sends each due delivery once when workers run side by side", async () => {
    const { db, project, admin } = await setup();
    const server = await listen();
    const made = await createWebhook(db, admin.actor, {
      project: project.slug,
      url: server.url,
    });
    server.setSecret(made.secret);
    for (let n = 0; n < 12; n++)
      await raise(project.id, "red_flag", `flag ${n}`);
    const passes = await Promise.all(
      Array.from({ length: 4 }, () => deliverDueWebhooks(db, { limit: 5 })),
    );
    let delivered = passes.reduce((sum, pass) => sum + pass.delivered, 0);
    while (delivered < 12) {
      const pass = await deliverDueWebhooks(db, { limit: 5 });
      if (pass.delivered === 0) break;
      delivered += pass.delivered;
    }
    expect(delivered).toBe(12);
    const ids = server.received.map((r) => r.headers["x-flotilla-delivery"]);
    expect(ids).toHaveLength(12);
    expect(new Set(ids).size).toBe(12);
  });
});
