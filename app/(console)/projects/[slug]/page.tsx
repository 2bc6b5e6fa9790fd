import Link from "next/link";
import { requirePageProject } from "@/server/api/page-auth";
import { projectOverview } from "@/server/identity/overview";

import { taskStatuses } from "@/server/orchestration/schemas";

export default async function ProjectOverviewPage(props: {
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await props.params;
  const { db, actor } = await requirePageProject(slug);
  const overview = await projectOverview(db, actor, { project: slug });
  const base = `/projects/${overview.project.slug}`;
  // Every task status, zero or not, in the order a task moves through them.
  const statuses: readonly string[] = taskStatuses;

  return (
    <>
      <h1>{overview.project.name}</h1>
      <div className="row" style={{ alignItems: "stretch" }}>
        <section className="panel" aria-label="Goals">
          <h2>Goals</h2>
          <p>
            <strong>{overview.goals.total}</strong>{" "}
            {plural(overview.goals.total, "goal")}
          </p>
          <Link href={`${base}/goals`}>Open goals</Link>
        </section>
        <section className="panel" aria-label="Tasks">
          <h2>Tasks</h2>
          <ul>
            {statuses.map((status) => (
              <li key={status}>
                {status.replace("_", " ")}:{" "}
                <strong>{overview.tasks[status] ?? 0}</strong>
              </li>
            ))}
          </ul>
          <Link href={`${base}/board`}>Open board</Link>
        </section>
        <section className="panel" aria-label="Agents">
          <h2>Agents</h2>
          <p>
            <strong>{overview.agents.total}</strong>{" "}
            {plural(overview.agents.total, "agent")}
            {overview.agents.byStatus.paused
              ? `, ${overview.agents.byStatus.paused} paused`
              : ""}
          </p>
          <Link href={`${base}/agents`}>Agents & tokens</Link>
        </section>
        <section className="panel" aria-label="Sessions">
          <h2>Sessions</h2>
          <p>
            <strong>{overview.sessions}</strong>{" "}
            {plural(overview.sessions, "session")}
          </p>
          <Link href={`${base}/sessions`}>Open sessions</Link>
        </section>
      </div>
      <p className="muted">
        You are {overview.role} in this project.{" "}
        <Link href={`${base}/audit`}>Audit log</Link>
      </p>
    </>
  );
}

function plural(count: number, noun: string): string {
  return count === 1 ? noun : `${noun}s`;
}
