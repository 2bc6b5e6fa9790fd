import { Suspense } from "react";
import { requirePageProject } from "@/server/api/page-auth";
import { SessionsList } from "./sessions-list";

export default async function SessionsPage(props: {
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await props.params;
  const { project } = await requirePageProject(slug);

  return (
    <>
      <h1>Sessions</h1>
      <p className="muted">
        What each agent reported, latest activity first. The grade rates
        throughput (file changes landed), reliability (failed attempts) and
        safety (red flags); open it for the reasons.
      </p>
      {/* The list reads its filters from the URL query. */}
      <Suspense fallback={<p className="muted">Loading sessions…</p>}>
        <SessionsList project={project.slug} />
      </Suspense>
    </>
  );
}
