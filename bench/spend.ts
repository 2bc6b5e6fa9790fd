import { performance } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import { queryRows } from "@/db/client";
import {
  openScratchDatabase,
  percentile,
  seedSpend,
} from "@/server/observability/bench";
import { rollupMismatches } from "@/server/observability/rollups";
import { projectSpend } from "@/server/observability/spend";
import { spendOverview } from "@/server/observability/spend-overview";
import {
  makeAgent,
  makePerson,
  makeProject,
} from "@/server/observability/testing";

// npm run bench:spend: seeds EVENTS events (default 10,000,000) over 90
// days into a scratch database on the local PostgreSQL server named by
// DATABASE_URL, then times spend by day by agent for 30 and 90 days as the
// console's Spend page asks for it (spendOverview stacked by agent, by
// day: the chart, top spenders, cost per task, burn-downs and spikes, all
// from the hourly rollups), and as the read API serves it (projectSpend),
// against the raw GROUP BY over events, and checks they agree exactly.
// Prints JSON.

const DAY_MS = 86_400_000;
const events = Number(process.env.EVENTS ?? 10_000_000);
const rollupRuns = Number(process.env.RUNS ?? 30);
const rawRuns = Number(process.env.RAW_RUNS ?? 10);

function day(at: Date): string {
  return at.toISOString().slice(0, 10);
}

async function main() {
  if (!Number.isInteger(events) || events < 1) {
    throw new Error("EVENTS must be a positive whole number");
  }
  const handle = await openScratchDatabase("flotilla_bench_spend");
  const { db } = handle;
  try {
    const project = await makeProject(db, "bench-spend");
    const agentIds: string[] = [];
    for (let a = 0; a < 8; a += 1) {
      const { actor } = await makeAgent(db, project.id, `agent-${a + 1}`);
      agentIds.push(actor.agentId);
    }
    const { actor: lead } = await makePerson(db, "lead@bench.invalid", "admin");
    const today = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
    const seedStart = performance.now();
    await seedSpend(db, {
      projectId: project.id,
      agentIds,
      events,
      days: 90,
      end: today,
    });
    const seedSeconds = (performance.now() - seedStart) / 1000;

    const lastDay = new Date(today.getTime() - DAY_MS);
    async function measure(days: number) {
      const from = day(new Date(today.getTime() - days * DAY_MS));
      const to = day(lastDay);
      const overviewInput = {
        project: project.slug,
        from,
        to,
        stackBy: "agent" as const,
        bucket: "day" as const,
      };
      let overview = await spendOverview(db, lead, overviewInput);
      const page: number[] = [];
      for (let run = 0; run < rollupRuns; run += 1) {
        const started = performance.now();
        overview = await spendOverview(db, lead, overviewInput);
        page.push(performance.now() - started);
      }
      const rollup: number[] = [];
      let report = await projectSpend(db, lead, {
        project: project.slug,
        from,
        to,
        groupBy: ["day", "agent"],
      });
      for (let run = 0; run < rollupRuns; run += 1) {
        const started = performance.now();
        report = await projectSpend(db, lead, {
          project: project.slug,
          from,
          to,
          groupBy: ["day", "agent"],
        });
        rollup.push(performance.now() - started);
      }
      const raw: number[] = [];
      let rawRows: { cost: string | null; calls: string }[] = [];
      for (let run = 0; run < rawRuns; run += 1) {
        const started = performance.now();
        rawRows = await queryRows(
          db,
          sql`select date_trunc('day', e.occurred_at at time zone 'UTC')
                as day, e.agent_id, a.name, sum(e.cost_usd) as cost,
                count(*) as calls
              from events e join agents a on a.id = e.agent_id
              where e.project_id = ${project.id}
                and e.cost_source <> 'none'
                and e.occurred_at >= ${`${from}T00:00:00Z`}::timestamptz
                and e.occurred_at < ${today.toISOString()}::timestamptz
              group by 1, 2, 3`,
        );
        raw.push(performance.now() - started);
      }
      const rawCost = rawRows.reduce(
        (sum, r) => sum + BigInt(Math.round(Number(r.cost ?? 0) * 1e8)),
        0n,
      );
      const reportCost = report.rows.reduce(
        (sum, r) => sum + BigInt(Math.round((r.costUsd ?? 0) * 1e8)),
        0n,
      );
      const rawCalls = rawRows.reduce((sum, r) => sum + Number(r.calls), 0);
      const pageCost = overview.series.reduce(
        (sum, p) => sum + BigInt(Math.round((p.costUsd ?? 0) * 1e8)),
        0n,
      );
      const agree =
        rawRows.length === report.rows.length &&
        rawCost === reportCost &&
        rawCalls === report.totals.calls &&
        pageCost === rawCost &&
        overview.totals.calls === rawCalls;

      return {
        result: {
          p50Ms: round(percentile(page, 50)),
          p95Ms: round(percentile(page, 95)),
          rawP95Ms: round(percentile(raw, 95)),
          readApiP50Ms: round(percentile(rollup, 50)),
          readApiP95Ms: round(percentile(rollup, 95)),
        },
        agree,
      };
    }

    const days30 = await measure(30);
    const days90 = await measure(90);
    const mismatches = await rollupMismatches(db, project.id);
    const [counts] = await queryRows<{ events: string; rollups: string }>(
      db,
      sql`select (select count(*) from events) as events,
            (select count(*) from spend_hourly) as rollups`,
    );

    console.log(
      JSON.stringify(
        {
          events: Number(counts.events),
          rollupRows: Number(counts.rollups),
          seedSeconds: round(seedSeconds),
          days30: days30.result,
          days90: days90.result,
          ratioRawToRollup: round(
            days90.result.rawP95Ms / Math.max(days90.result.p95Ms, 0.001),
          ),
          totalsEqual: mismatches.length === 0 && days30.agree && days90.agree,
        },
        null,
        2,
      ),
    );
  } finally {
    await handle.close();
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
