import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { and, eq } from "drizzle-orm";
import { agents, projects } from "@/db/schema";
import { withDatabase, CliError } from "@/cli/context";
import { seedSpend } from "@/server/observability/bench";
import { newId, now } from "@/server/runtime";

// npm run seed:spend -- --project SLUG [--events N] [--days D] [--agents K]
// Fills an existing project with N priced model calls spread over the last
// D days by K agents (seed-1, seed-2, ...; reused when they exist), with
// goals, done tasks, sessions, hourly rollups and event keys as ingest
// keeps them, so the Spend and Sessions pages have history to show. The
// same writer seeds `npm run bench:spend`. It opens the database the
// console uses (DATABASE_URL, else the embedded one, which must not be in
// use by a running console). Prints JSON.

const usage =
  "usage: npm run seed:spend -- --project SLUG [--events N] [--days D] [--agents K]";

function wholeNumber(name: string, value: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new CliError(`--${name} must be a whole number from 1 to ${max}`, 2);
  }

  return n;
}

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        project: { type: "string" },
        events: { type: "string", default: "100000" },
        days: { type: "string", default: "90" },
        agents: { type: "string", default: "4" },
      },
    }));
  } catch (error) {
    // npm passes options on only after "--".
    throw new CliError(`${(error as Error).message}\n${usage}`, 2);
  }
  if (!values.project) throw new CliError(`--project is required\n${usage}`, 2);
  const events = wholeNumber("events", values.events, 50_000_000);
  const days = wholeNumber("days", values.days, 3650);
  const agentCount = wholeNumber("agents", values.agents, 100);

  await withDatabase(async ({ db }) => {
    const [project] = await db
      .select({ id: projects.id })
      .from(projects)
      .where(eq(projects.slug, values.project!));
    if (!project) {
      throw new CliError(
        `No project "${values.project}": create it in the console first`,
        2,
      );
    }
    const agentIds: string[] = [];
    for (let k = 1; k <= agentCount; k += 1) {
      const name = `seed-${k}`;
      const [existing] = await db
        .select({ id: agents.id })
        .from(agents)
        .where(and(eq(agents.projectId, project.id), eq(agents.name, name)));
      if (existing) {
        agentIds.push(existing.id);
        continue;
      }
      const id = newId();
      await db.insert(agents).values({
        id,
        projectId: project.id,
        name,
        createdAt: now(),
        updatedAt: now(),
      });
      agentIds.push(id);
    }
    const started = performance.now();
    // Up to the start of the next hour, so today has spend too.
    const end = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000);
    await seedSpend(db, { projectId: project.id, agentIds, events, days, end });
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(
      `${JSON.stringify({ project: values.project, events, days, agents: agentCount, seconds: Math.round(seconds * 10) / 10 }, null, 2)}\n`,
    );
  });
}

main().catch((error: unknown) => {
  if (error instanceof CliError) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = error.exitCode;
    return;
  }
  console.error(error);
  process.exitCode = 1;
});
