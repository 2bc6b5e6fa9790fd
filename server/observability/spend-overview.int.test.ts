import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { queryRows, type DatabaseHandle } from "@/db/client";
import { budgets, goals, projects, tasks } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { newId, setClock } from "@/server/runtime";
import { openTestDatabase, testKinds } from "@/tests/db";
import { ingestEvents, type AgentActor } from "./ingest";
import { projectSpend } from "./spend";
import { spendOverview } from "./spend-overview";
import { overviewCsv, spendOverviewCsv } from "./spend-overview-csv";
import { makeAgent, makePerson, makeProject, makeTask } from "./testing";

// The Spend page's figures, read from the rollups ingest keeps, checked
// against the events they came from.

let eventCount = 0;

/** A priced call at `time` with a cost the client reported. */
function call(
  time: string,
  costUsd: number,
  extra: { model?: string; taskId?: string; sessionId?: string } = {},
) {
  eventCount += 1;

  return {
    id: `ev-${eventCount}`,
    sessionId: extra.sessionId ?? "s-1",
    type: "llm_call",
    time,
    model: extra.model ?? "claude-sonnet-4-5",
    usage: { inputTokens: 1000, outputTokens: 100 },
    costUsd,
    ...(extra.taskId ? { taskId: extra.taskId } : {}),
  };
}

/** Parses CSV text (quoted cells, CRLF) into rows of cells. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i += 1;
    } else cell += c;
  }

  return rows;
}

describe.each(testKinds)("spend overview on %s", (kind) => {
  let handle: DatabaseHandle;
  let lead: Actor;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    lead = (await makePerson(handle.db, `lead-${kind}@example.com`, "admin"))
      .actor;
  });
  afterAll(async () => handle.close());
  afterEach(() => setClock(null));

  async function zonedProject(slug: string, timeZone: string) {
    const project = await makeProject(handle.db, slug);
    await handle.db
      .update(projects)
      .set({ timeZone })
      .where(eq(projects.id, project.id));

    return project;
  }

  async function send(agent: AgentActor, events: unknown[]) {
    const result = await ingestEvents(handle.db, agent, { events });
    expect(result.accepted).toBe(events.length);
  }

  it("buckets an event by its day in the project's time zone", async () => {
    const late = "2026-12-01T23:30:00.000Z";
    const zones = [
      ["tz-berlin", "Europe/Berlin", "2026-12-02", "2026-12-02 00:30"],
      ["tz-new-york", "America/New_York", "2026-12-01", "2026-12-01 18:30"],
    ] as const;
    for (const [slug, zone, day, hour] of zones) {
      const project = await zonedProject(slug, zone);
      const { actor } = await makeAgent(handle.db, project.id, "builder");
      await send(actor, [call(late, 0.5)]);

      const byDay = await spendOverview(handle.db, lead, {
        project: slug,
        from: "2026-11-28",
        to: "2026-12-04",
      });
      expect(byDay.bucket).toBe("day");
      expect(byDay.series.map((p) => [p.bucket, p.costUsd])).toEqual([
        [day, 0.5],
      ]);
      expect(byDay.buckets[0]).toEqual({
        key: "2026-11-28",
        label: "2026-11-28",
      });

      // The read API's day dimension agrees.
      const report = await projectSpend(handle.db, lead, {
        project: slug,
        from: "2026-11-28",
        to: "2026-12-04",
        groupBy: "day",
      });
      expect(report.rows.map((r) => r.day)).toEqual([day]);

      // A range of that one local day holds it; the day before does not.
      const oneDay = await spendOverview(handle.db, lead, {
        project: slug,
        from: day,
        to: day,
      });
      expect(oneDay.bucket).toBe("hour");
      expect(oneDay.buckets).toHaveLength(24);
      expect(oneDay.totals.costUsd).toBe(0.5);
      const labels = new Map(oneDay.buckets.map((b) => [b.key, b.label]));
      expect(oneDay.series.map((p) => labels.get(p.bucket))).toEqual([
        // The hour row starts at 23:00 UTC.
        hour.replace(":30", ":00"),
      ]);
      const before = await spendOverview(handle.db, lead, {
        project: slug,
        from: "2026-11-30",
        to: zone === "Europe/Berlin" ? "2026-12-01" : "2026-11-30",
      });
      expect(before.totals.costUsd).toBeNull();
      expect(before.series).toEqual([]);
    }
  });

  it("says when a zone is offset by part of an hour", async () => {
    await zonedProject("tz-kolkata", "Asia/Kolkata");
    const overview = await spendOverview(handle.db, lead, {
      project: "tz-kolkata",
      from: "2026-12-01",
      to: "2026-12-01",
    });
    expect(overview.partHourZone).toBe(true);
    // The day's hours start at 18:30 UTC the day before, snapped up to the
    // whole hour whose first minute is in the day.
    expect(overview.rangeStart).toBe("2026-11-30T19:00:00.000Z");
    expect(overview.rangeEnd).toBe("2026-12-01T19:00:00.000Z");
    expect(overview.buckets[0].label).toBe("2026-12-01 00:30");
  });

  it("adds up to the events, by series, top lists and filters", async () => {
    const project = await zonedProject("totals", "Europe/Berlin");
    const a = (await makeAgent(handle.db, project.id, "alpha")).actor;
    const b = (await makeAgent(handle.db, project.id, "beta")).actor;
    const { task, goal } = await makeTask(handle.db, project.id, "Ship it");
    const models = ["claude-sonnet-4-5", "gpt-4.1", "claude-haiku-4-5"];
    const events = Array.from({ length: 60 }, (_, i) =>
      call(
        new Date(Date.UTC(2026, 10, 3, 5 + i * 7)).toISOString(),
        Math.round((0.01 + (i % 9) * 0.137) * 1e6) / 1e6,
        {
          model: models[i % 3],
          taskId: i % 4 === 0 ? task.id : undefined,
          sessionId: `s-${i % 5}`,
        },
      ),
    );
    await send(a, events.slice(0, 35));
    await send(b, events.slice(35));

    const overview = await spendOverview(handle.db, lead, {
      project: "totals",
      from: "2026-11-01",
      to: "2026-11-30",
      stackBy: "model",
    });
    const [raw] = await queryRows<{ cost: string; calls: string }>(
      handle.db,
      sql`select sum(cost_usd)::text as cost, count(*)::text as calls
          from events where project_id = ${project.id}`,
    );
    const expected = Number(raw.cost);
    expect(overview.totals.calls).toBe(60);
    expect(overview.totals.costUsd).toBeCloseTo(expected, 8);
    expect(overview.totals.inputTokens).toBe(60_000);
    const sum = (xs: { costUsd: number | null }[]) =>
      xs.reduce((t, x) => t + (x.costUsd ?? 0), 0);
    expect(sum(overview.series)).toBeCloseTo(expected, 8);
    expect(sum(overview.top.agents)).toBeCloseTo(expected, 8);
    expect(sum(overview.top.models)).toBeCloseTo(expected, 8);
    expect(sum(overview.top.goals)).toBeCloseTo(expected, 8);
    expect(overview.top.goals.map((g) => g.name).sort()).toEqual(
      [goal.title, "(no goal)"].sort(),
    );
    expect(new Set(overview.series.map((p) => p.name))).toEqual(
      new Set(models),
    );
    expect(overview.options.models).toEqual([...models].sort());

    // One agent, one model: exactly their events.
    const [alphaGpt] = await queryRows<{ cost: string; calls: string }>(
      handle.db,
      sql`select sum(cost_usd)::text as cost, count(*)::text as calls
          from events where project_id = ${project.id}
            and agent_id = ${a.agentId} and model = 'gpt-4.1'`,
    );
    const filtered = await spendOverview(handle.db, lead, {
      project: "totals",
      from: "2026-11-01",
      to: "2026-11-30",
      agent: a.agentId,
      model: "gpt-4.1",
    });
    expect(filtered.totals.calls).toBe(Number(alphaGpt.calls));
    expect(filtered.totals.costUsd).toBeCloseTo(Number(alphaGpt.cost), 8);
    expect(filtered.top.agents.map((x) => x.name)).toEqual(["alpha"]);
    expect(filtered.top.models.map((x) => x.name)).toEqual(["gpt-4.1"]);
  });

  it("sums the smallest series as one past eight", async () => {
    const project = await zonedProject("many-tasks", "UTC");
    const a = (await makeAgent(handle.db, project.id, "alpha")).actor;
    const events = [];
    for (let i = 1; i <= 10; i += 1) {
      const { task } = await makeTask(handle.db, project.id, `Task ${i}`);
      events.push(call("2026-11-02T10:00:00Z", i, { taskId: task.id }));
    }
    await send(a, events);

    const overview = await spendOverview(handle.db, lead, {
      project: "many-tasks",
      from: "2026-11-01",
      to: "2026-11-03",
      stackBy: "task",
    });
    expect(overview.series.map((p) => [p.name, p.costUsd])).toEqual([
      ["Task 10", 10],
      ["Task 9", 9],
      ["Task 8", 8],
      ["Task 7", 7],
      ["Task 6", 6],
      ["Task 5", 5],
      ["Task 4", 4],
      ["other (3)", 6],
    ]);
    expect(overview.series.at(-1)?.calls).toBe(3);
  });

  it("prices completed tasks from their whole spend", async () => {
    const project = await zonedProject("per-task", "UTC");
    const a = (await makeAgent(handle.db, project.id, "alpha")).actor;
    const b = (await makeAgent(handle.db, project.id, "beta")).actor;
    const cheap = await makeTask(handle.db, project.id, "Cheap task");
    const dear = await makeTask(handle.db, project.id, "Dear task");
    const late = await makeTask(handle.db, project.id, "Done later");
    const open = await makeTask(handle.db, project.id, "Still open");
    const t = (id: string) => ({ taskId: id });
    // Spend before the range counts to a task completed in it.
    await send(a, [
      call("2026-10-28T10:00:00Z", 1.5, t(dear.task.id)),
      call("2026-11-02T10:00:00Z", 2.25, t(dear.task.id)),
      call("2026-11-02T11:00:00Z", 0.25, t(cheap.task.id)),
      call("2026-11-03T11:00:00Z", 9, t(late.task.id)),
      call("2026-11-03T12:00:00Z", 4, t(open.task.id)),
    ]);
    await send(b, [call("2026-11-02T12:00:00Z", 0.5, t(cheap.task.id))]);
    const finish = async (id: string, at: string) =>
      handle.db
        .update(tasks)
        .set({ status: "done", completedAt: new Date(at) })
        .where(eq(tasks.id, id));
    await finish(cheap.task.id, "2026-11-05T09:00:00Z");
    await finish(dear.task.id, "2026-11-06T09:00:00Z");
    await finish(late.task.id, "2026-12-02T09:00:00Z");

    const overview = await spendOverview(handle.db, lead, {
      project: "per-task",
      from: "2026-11-01",
      to: "2026-11-30",
    });
    const done = overview.completedTasks;
    expect(done.count).toBe(2);
    expect(done.costUsd).toBeCloseTo(4.5, 8);
    expect(done.costPerTaskUsd).toBeCloseTo(2.25, 8);
    expect(done.mostExpensive.map((x) => [x.title, x.costUsd])).toEqual([
      ["Dear task", 3.75],
      ["Cheap task", 0.75],
    ]);
    expect(done.mostExpensive[0].completedDay).toBe("2026-11-06");

    // Agent beta only spent on the cheap task.
    const beta = await spendOverview(handle.db, lead, {
      project: "per-task",
      from: "2026-11-01",
      to: "2026-11-30",
      agent: b.agentId,
    });
    expect(beta.completedTasks.count).toBe(1);
    expect(beta.completedTasks.costPerTaskUsd).toBeCloseTo(0.5, 8);

    // A goal filter keeps that goal's tasks.
    const goalOnly = await spendOverview(handle.db, lead, {
      project: "per-task",
      from: "2026-11-01",
      to: "2026-11-30",
      goal: dear.goal.id,
    });
    expect(goalOnly.completedTasks.mostExpensive.map((x) => x.title)).toEqual([
      "Dear task",
    ]);
  });

  it("burns each goal's budget down day by day", async () => {
    const project = await zonedProject("burn", "UTC");
    const a = (await makeAgent(handle.db, project.id, "alpha")).actor;
    const { goal, task } = await makeTask(handle.db, project.id, "Budgeted");
    const unbudgeted = await makeTask(handle.db, project.id, "Free");
    await handle.db
      .update(goals)
      .set({ budgetUsd: "10" })
      .where(eq(goals.id, goal.id));
    await handle.db.insert(budgets).values({
      id: newId(),
      projectId: project.id,
      scope: "goal",
      goalId: goal.id,
      unit: "usd",
      period: "total",
      limitAmount: "8",
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    await handle.db.insert(budgets).values({
      id: newId(),
      projectId: project.id,
      scope: "goal",
      goalId: goal.id,
      unit: "usd",
      period: "day",
      limitAmount: "5",
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    await send(a, [
      call("2026-11-20T10:00:00Z", 2, { taskId: task.id }),
      call("2026-12-01T10:00:00Z", 1, { taskId: task.id }),
      call("2026-12-03T10:00:00Z", 1.25, { taskId: task.id }),
      call("2026-12-03T11:00:00Z", 1.75, { taskId: task.id }),
      call("2026-12-04T10:00:00Z", 50, { taskId: task.id }),
      call("2026-12-02T10:00:00Z", 7, { taskId: unbudgeted.task.id }),
    ]);

    const overview = await spendOverview(handle.db, lead, {
      project: "burn",
      from: "2026-12-01",
      to: "2026-12-03",
    });
    expect(overview.burnDown).toHaveLength(1);
    const burn = overview.burnDown[0];
    expect(burn.title).toBe("Budgeted goal");
    expect(burn.spentBeforeUsd).toBe(2);
    expect(burn.points).toEqual([
      { bucket: "2026-12-01", spendUsd: 1, cumulativeUsd: 3 },
      { bucket: "2026-12-02", spendUsd: 0, cumulativeUsd: 3 },
      { bucket: "2026-12-03", spendUsd: 3, cumulativeUsd: 6 },
    ]);
    expect(burn.budgets.map((b) => [b.source, b.period, b.limitUsd])).toEqual([
      ["goal", "total", 10],
      ["budget", "day", 5],
      ["budget", "total", 8],
    ]);
    // The tightest budget that never resets is the line.
    expect(burn.lineUsd).toBe(8);
    expect(burn.remainingUsd).toBe(2);
  });

  it("calls out spikes above three times the trailing median", async () => {
    const project = await zonedProject("spikes", "UTC");
    const a = (await makeAgent(handle.db, project.id, "steady")).actor;
    const b = (await makeAgent(handle.db, project.id, "burst")).actor;
    // $0.80 a day, under the default $1 floor.
    const steady = Array.from({ length: 10 }, (_, i) =>
      call(`2026-11-${String(1 + i).padStart(2, "0")}T09:00:00Z`, 0.8),
    );
    await send(a, steady);
    await send(b, [
      // Day 8: $0.80 + $4 = $4.80, six times the median of $0.80.
      call("2026-11-08T10:00:00Z", 4),
      // Day 10: $0.80 + $1.50 = $2.30, under three times the median.
      call("2026-11-10T10:00:00Z", 1.5),
    ]);

    const overview = await spendOverview(handle.db, lead, {
      project: "spikes",
      from: "2026-11-05",
      to: "2026-11-12",
    });
    expect(
      overview.spikes.map((s) => [
        s.bucket,
        s.costUsd,
        s.medianUsd,
        s.ratio,
        s.top.name,
        s.top.costUsd,
      ]),
    ).toEqual([["2026-11-08", 4.8, 0.8, 6, "burst", 4]]);

    // A floor above the spike's cost: no spike.
    const floored = await spendOverview(handle.db, lead, {
      project: "spikes",
      from: "2026-11-05",
      to: "2026-11-12",
      spikeFloorUsd: 5,
    });
    expect(floored.spikes).toEqual([]);

    // The first days follow nothing: too little history to judge, so no
    // spike however low the floor.
    const early = await spendOverview(handle.db, lead, {
      project: "spikes",
      from: "2026-11-01",
      to: "2026-11-04",
      bucket: "day",
      spikeFloorUsd: 0.01,
    });
    expect(early.spikes).toEqual([]);
    // The look-back reaches before the range: day 8 alone is compared
    // with days 1 to 7.
    const dayEight = await spendOverview(handle.db, lead, {
      project: "spikes",
      from: "2026-11-08",
      to: "2026-11-08",
      bucket: "day",
    });
    expect(dayEight.spikes.map((s) => [s.label, s.medianUsd])).toEqual([
      ["2026-11-08", 0.8],
    ]);
  });

  it("exports what the page shows as escaped CSV", async () => {
    const project = await zonedProject("csv", "UTC");
    const a = (await makeAgent(handle.db, project.id, '=HYPERLINK("x")')).actor;
    const { task } = await makeTask(
      handle.db,
      project.id,
      'Fix "quotes", commas\nand lines',
    );
    await send(a, [
      call("2026-11-02T10:00:00Z", 1.5, { taskId: task.id }),
      call("2026-11-03T10:00:00Z", 0.5, { model: "+cmd|calc" }),
    ]);
    await handle.db
      .update(tasks)
      .set({ status: "done", completedAt: new Date("2026-11-04T00:00:00Z") })
      .where(eq(tasks.id, task.id));

    const input = {
      project: "csv",
      from: "2026-11-01",
      to: "2026-11-05",
      stackBy: "task" as const,
    };
    const { filename, csv } = await spendOverviewCsv(handle.db, lead, input);
    expect(filename).toBe("csv-spend-2026-11-01-to-2026-11-05.csv");
    expect(csv).toBe(overviewCsv(await spendOverview(handle.db, lead, input)));
    const rows = parseCsv(csv);
    const header = rows[0];
    expect(rows.every((row) => row.length === header.length)).toBe(true);
    const col = (name: string) => header.indexOf(name);
    const section = (name: string) =>
      rows.filter((row) => row[col("section")] === name);

    expect(
      section("spend_by_task").map((r) => [
        r[col("bucket")],
        r[col("name")],
        r[col("cost_usd")],
      ]),
    ).toEqual([
      ["2026-11-02", 'Fix "quotes", commas\nand lines', "1.50000000"],
      ["2026-11-03", "(no task)", "0.50000000"],
    ]);
    expect(section("total")[0][col("cost_usd")]).toBe("2.00000000");
    // Formulas are defused; the raw text shows the quoting.
    expect(section("top_agent")[0][col("name")]).toBe(`'=HYPERLINK("x")`);
    expect(csv).toContain(`"'=HYPERLINK(""x"")"`);
    expect(
      section("top_model")
        .map((r) => r[col("name")])
        .sort(),
    ).toEqual(["'+cmd|calc", "claude-sonnet-4-5"]);
    const done = section("completed_tasks")[0];
    expect([done[col("tasks")], done[col("cost_per_task_usd")]]).toEqual([
      "1",
      "1.50000000",
    ]);
    expect(section("completed_task")[0][col("bucket")]).toBe("2026-11-04");
  });

  it("refuses a backwards range and too many hours with a 400", async () => {
    await zonedProject("bad-input", "UTC");
    await expect(
      spendOverview(handle.db, lead, {
        project: "bad-input",
        from: "2026-11-05",
        to: "2026-11-01",
      }),
    ).rejects.toMatchObject({ code: "invalid_input" });
    await expect(
      spendOverview(handle.db, lead, {
        project: "bad-input",
        from: "2026-11-01",
        to: "2026-11-30",
        bucket: "hour",
      }),
    ).rejects.toMatchObject({
      code: "invalid_input",
      details: [{ path: "bucket" }],
    });
    await expect(
      spendOverview(handle.db, lead, {
        project: "bad-input",
        from: "2026-02-30",
      }),
    ).rejects.toMatchObject({ code: "invalid_input" });
  });
});
