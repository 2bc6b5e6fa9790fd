import { sql } from "drizzle-orm";
import { queryRows, type Database } from "@/db/client";
import type { Actor } from "@/server/identity/actor";
import { parseInput } from "@/server/input";
import { now } from "@/server/runtime";
import { getPlan } from "./plans";
import { planIdInput, type TaskStatus } from "./schemas";
import { rootsOverlap, scopeOverlapSql, scopeRoot } from "./scopes";

// What a plan under review would collide with: work already in flight in
// the project (tasks not yet finished, from any goal) and live
// reservations, whose scopes overlap a plan task's scope. Operators read
// it on the plan page before approving.

/** Tasks in these states hold or are about to hold their scope. */
const inFlightStatuses: TaskStatus[] = [
  "ready",
  "claimed",
  "in_progress",
  "in_review",
  "blocked",
];

export interface PlanOverlap {
  /** The plan task's key. */
  key: string;
  kind: "task" | "reservation";
  taskId: string | null;
  title: string;
  status: string;
  holder: string | null;
  /** The plan task's scope entry and the other side's that overlap. */
  ours: string;
  theirs: string;
}

const MAX_PER_TASK = 10;

export async function planOverlaps(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<PlanOverlap[]> {
  const { planId } = parseInput(planIdInput, input);
  const plan = await getPlan(db, actor, { planId });
  const entries = plan.tasks.flatMap((task) =>
    task.scope.map((glob) => ({ key: task.key, glob, root: scopeRoot(glob) })),
  );
  if (entries.length === 0) return [];
  // The plan's own tasks, once approved, do not collide with themselves.
  const own = plan.tasks.flatMap((task) => (task.taskId ? [task.taskId] : []));
  const ownFilter =
    own.length > 0
      ? sql`and t.id not in (${sql.join(
          own.map((id) => sql`${id}::uuid`),
          sql`, `,
        )})`
      : sql``;
  const values = sql.join(
    entries.map((e, i) => sql`(${i}::int, ${e.root}::text)`),
    sql`, `,
  );
  const statuses = sql.join(
    inFlightStatuses.map((s) => sql`${s}`),
    sql`, `,
  );
  const overlapsRoot = (roots: string) =>
    scopeOverlapSql(sql`array[p.root]`, sql.raw(roots));
  const rows = await queryRows<{
    entry: number;
    kind: "task" | "reservation";
    task_id: string | null;
    title: string;
    status: string;
    holder: string | null;
    globs: string[];
  }>(
    db,
    sql`
      with p(entry, root) as (values ${values})
      select p.entry, 'task' as kind, t.id as task_id, t.title, t.status,
        a.name as holder, t.scope as globs
      from p
      join tasks t on t.project_id = ${plan.projectId}
        and t.status in (${statuses}) ${ownFilter}
        and ${overlapsRoot("t.scope_roots")}
      left join agents a on a.id = t.holder_agent_id
      union all
      select p.entry, 'reservation', null, array_to_string(r.globs, ', '),
        r.mode, a.name, r.globs
      from p
      join reservations r on r.project_id = ${plan.projectId}
        and r.released_at is null
        and r.expires_at > ${now().toISOString()}::timestamptz
        and ${overlapsRoot("r.roots")}
      join agents a on a.id = r.agent_id
      order by 1, 4
    `,
  );

  const perKey = new Map<string, number>();
  const seen = new Set<string>();
  const overlaps: PlanOverlap[] = [];
  for (const row of rows) {
    const entry = entries[row.entry]!;
    const other = `${entry.key}\0${row.kind}\0${row.task_id ?? row.title}`;
    if (seen.has(other)) continue;
    const count = perKey.get(entry.key) ?? 0;
    if (count >= MAX_PER_TASK) continue;
    seen.add(other);
    perKey.set(entry.key, count + 1);
    const theirs =
      row.globs.find((glob) => rootsOverlap(scopeRoot(glob), entry.root)) ??
      row.globs[0]!;
    overlaps.push({
      key: entry.key,
      kind: row.kind,
      taskId: row.task_id,
      title: row.title,
      status: row.status,
      holder: row.holder,
      ours: entry.glob,
      theirs,
    });
  }

  return overlaps;
}
