import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { inTransaction, type DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { notificationRecipients, notifications } from "@/db/schema";
import { createCaller } from "@/server/api/root";
import type { Actor } from "@/server/identity/actor";
import { ingestEvents } from "@/server/observability/ingest";
import {
  claimNextTask,
  createGoal,
  createTask,
  setMaxAttempts,
  sweepExpiredLeases,
} from "@/server/orchestration";
import { setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { pinClock, rejection, trpcFailure } from "@/tests/failures";
import { addMember, makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import {
  listNotifications,
  markAllNotificationsRead,
  markNotificationsRead,
  unreadNotificationCount,
} from "./notifications";
import { notify } from "./notify";

// The in-app inbox as operators meet it: notifications reach the project's
// operators (or, failing those, the instance admins), each person reads and
// clears their own, and red flags and lapsing tasks raise them by themselves.

const cli: Actor = { kind: "cli", label: "cli:test" };

describe.each(testKinds)("notifications on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
  });
  afterAll(async () => {
    useDatabase(null);
    await handle.close();
  });
  afterEach(() => setClock(null));

  async function member(projectId: string, role: "operator" | "viewer") {
    const person = await makeUser(handle.db, "viewer");
    await addMember(handle.db, projectId, person.user.id, role);

    return person;
  }

  function raise(projectId: string, title: string, dedupeKey?: string) {
    return inTransaction(handle.db, (tx) =>
      notify(tx, {
        projectId,
        kind: "budget_threshold",
        severity: "warning",
        title,
        body: "80% of the daily budget is spent",
        link: "/projects/x/spend",
        dedupeKey,
      }),
    );
  }

  it("reaches the project's operators and falls back to instance admins", async () => {
    const db = handle.db;
    const staffed = await makeProject(db);
    const operator = await member(staffed.id, "operator");
    const viewer = await member(staffed.id, "viewer");
    const admin = await makeUser(db, "admin");

    const raised = await raise(staffed.id, "Spend at 80%");
    expect(raised?.recipients).toEqual([operator.user.id]);
    const seen = await listNotifications(db, operator.actor, {
      project: staffed.slug,
    });
    expect(seen.items.map((n) => n.title)).toEqual(["Spend at 80%"]);
    expect(
      (await listNotifications(db, viewer.actor, { project: staffed.slug }))
        .items,
    ).toEqual([]);

    // A project with no operators: the instance admins hear of it.
    const empty = await makeProject(db);
    const fallback = await raise(empty.id, "Nobody staffs this");
    expect(fallback?.recipients).toContain(admin.user.id);
    expect(fallback?.recipients).not.toContain(operator.user.id);
    const adminInbox = await listNotifications(db, admin.actor, {});
    expect(adminInbox.items.map((n) => [n.title, n.project])).toContainEqual([
      "Nobody staffs this",
      empty.slug,
    ]);

    // The same dedupe key raises nothing a second time.
    expect(await raise(empty.id, "Again", "same")).not.toBeNull();
    expect(await raise(empty.id, "Again", "same")).toBeNull();
  });

  it("lists unread first, counts, pages and marks read per person", async () => {
    const db = handle.db;
    const clock = pinClock();
    const project = await makeProject(db);
    const ann = await member(project.id, "operator");
    const bob = await member(project.id, "operator");
    for (const title of ["first", "second", "third"]) {
      await raise(project.id, title);
      clock.advance(60);
    }
    const inbox = { project: project.slug };
    const listed = await listNotifications(db, ann.actor, inbox);
    expect(listed.items.map((n) => n.title)).toEqual([
      "third",
      "second",
      "first",
    ]);
    expect(listed).toMatchObject({ total: 3, unread: 3 });

    // Reading "third" moves it below the unread ones, for Ann only.
    const third = listed.items[0];
    expect(
      await markNotificationsRead(db, ann.actor, { ...inbox, ids: [third.id] }),
    ).toEqual({ marked: 1 });
    const after = await listNotifications(db, ann.actor, inbox);
    expect(after.items.map((n) => [n.title, n.readAt !== null])).toEqual([
      ["second", false],
      ["first", false],
      ["third", true],
    ]);
    expect(await unreadNotificationCount(db, ann.actor, inbox)).toEqual({
      unread: 2,
    });
    expect(await unreadNotificationCount(db, bob.actor, inbox)).toEqual({
      unread: 3,
    });

    // Pages of two; unread only.
    const page2 = await listNotifications(db, ann.actor, {
      ...inbox,
      limit: 2,
      offset: 2,
    });
    expect(page2.items.map((n) => n.title)).toEqual(["third"]);
    const unread = await listNotifications(db, ann.actor, {
      ...inbox,
      unreadOnly: true,
    });
    expect(unread.items.map((n) => n.title)).toEqual(["second", "first"]);

    // Bob reading "third" marks his copy only.
    await markNotificationsRead(db, bob.actor, { ...inbox, ids: [third.id] });
    expect(await unreadNotificationCount(db, ann.actor, inbox)).toEqual({
      unread: 2,
    });
    expect(await unreadNotificationCount(db, bob.actor, inbox)).toEqual({
      unread: 2,
    });
    expect(await markAllNotificationsRead(db, ann.actor, inbox)).toEqual({
      marked: 2,
    });
    expect(await unreadNotificationCount(db, ann.actor, inbox)).toEqual({
      unread: 0,
    });
    // Across all projects Bob still has his two.
    expect(await unreadNotificationCount(db, bob.actor, {})).toEqual({
      unread: 2,
    });

    // Agents have no inbox; the tRPC caller says why.
    const agent = await makeAgent(db, project.id);
    expect(
      (await rejection(unreadNotificationCount(db, agent.actor, inbox))).status,
    ).toBe(403);
    const caller = createCaller({ db, actor: null });
    expect(
      (await trpcFailure(caller.notifications.unreadCount(inbox))).code,
    ).toBe("UNAUTHORIZED");
    const signedIn = createCaller({ db, actor: ann.actor });
    expect(await signedIn.notifications.unreadCount(inbox)).toEqual({
      unread: 0,
    });
  });

  it("notifies once per session and rule for critical red flags", async () => {
    const db = handle.db;
    const project = await makeProject(db);
    const operator = await member(project.id, "operator");
    const agent = await makeAgent(db, project.id, "wrecker");
    const event = (sessionId: string, id: string, command: string) => ({
      id,
      sessionId,
      type: "tool_call",
      name: "Bash",
      toolName: "Bash",
      time: "2026-12-01T10:00:00.000Z",
      input: { command },
    });
    await ingestEvents(db, agent.actor, {
      events: [
        event("s1", "e1", "rm -rf /"),
        event("s1", "e2", "rm -rf /home"),
        event("s1", "e3", "git status"),
      ],
    });
    await ingestEvents(db, agent.actor, {
      events: [event("s1", "e4", "rm -rf ~")],
    });
    const inbox = await listNotifications(db, operator.actor, {
      project: project.slug,
    });
    expect(inbox.items).toHaveLength(1);
    expect(inbox.items[0]).toMatchObject({
      kind: "red_flag",
      severity: "critical",
      title: "Critical red flag shell.recursive-delete from wrecker",
    });
    expect(inbox.items[0].link).toMatch(
      new RegExp(`^/projects/${project.slug}/sessions/[0-9a-f-]{36}$`),
    );

    // Another session is another notification.
    await ingestEvents(db, agent.actor, {
      events: [event("s2", "e5", "rm -rf /")],
    });
    expect(
      await unreadNotificationCount(db, operator.actor, {
        project: project.slug,
      }),
    ).toEqual({ unread: 2 });
  });

  it("notifies when leases keep expiring and when a task runs out of attempts", async () => {
    const db = handle.db;
    const clock = pinClock();
    const project = await makeProject(db);
    const operator = await member(project.id, "operator");
    const agent = await makeAgent(db, project.id);
    await setMaxAttempts(db, project.id, 3);
    const goal = await createGoal(db, cli, {
      project: project.slug,
      title: "Flaky work",
    });
    const task = await createTask(db, cli, { goalId: goal.id, title: "Flaky" });
    const lapse = async () => {
      expect(
        (await claimNextTask(db, agent.actor, { ttlSeconds: 10 }))?.task.id,
      ).toBe(task.id);
      clock.advance(11);
      await sweepExpiredLeases(db);
    };
    const kinds = async () =>
      (
        await db
          .select({ kind: notifications.kind, title: notifications.title })
          .from(notifications)
          .where(eq(notifications.projectId, project.id))
          .orderBy(notifications.id)
      ).map((n) => `${n.kind}: ${n.title}`);

    await lapse();
    expect(await kinds()).toEqual([]);
    await lapse();
    expect(await kinds()).toEqual([
      "lease_expiring: The lease on task 'Flaky' keeps expiring",
    ]);
    await lapse();
    expect(await kinds()).toEqual([
      "lease_expiring: The lease on task 'Flaky' keeps expiring",
      "task_failing: Task 'Flaky' failed after 3 attempts",
    ]);
    await sweepExpiredLeases(db);
    expect(await kinds()).toHaveLength(2);
    const [recipient] = await db
      .select()
      .from(notificationRecipients)
      .innerJoin(
        notifications,
        eq(notifications.id, notificationRecipients.notificationId),
      )
      .where(
        and(
          eq(notifications.projectId, project.id),
          eq(notifications.kind, "task_failing"),
        ),
      );
    expect(recipient.notification_recipients.userId).toBe(operator.user.id);
    expect(recipient.notifications.link).toBe(
      `/projects/${project.slug}/tasks/${task.id}`,
    );
  });
});
