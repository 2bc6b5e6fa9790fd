import Link from "next/link";
import { LiveSession } from "@/components/session-timeline/live-session";
import { orNotFound, requirePageProject } from "@/server/api/page-auth";
import { getSession } from "@/server/observability/sessions";

// One session: its totals, grade and hash-chain verdict, and its timeline.
// The first events come with the page so rows show at once; the timeline
// reads the rest a page at a time as the reader scrolls, and the page
// then keeps itself current as events arrive (LiveSession). The chain
// check reads every event, so the browser asks for it once the page is up.

const FIRST_PAGE = 100;

export default async function SessionPage(props: {
  params: Promise<{ slug: string; id: string }>;
}) {
  const { slug, id } = await props.params;
  const { db, actor, project } = await requirePageProject(slug);
  const detail = await orNotFound(
    getSession(db, actor, {
      project: project.slug,
      sessionId: decodeURIComponent(id),
      limit: FIRST_PAGE,
    }),
  );
  const { session } = detail;

  return (
    <>
      <p>
        <Link href={`/projects/${project.slug}/sessions`}>← Sessions</Link>
      </p>
      <h1>{session.title ?? session.externalId}</h1>
      <LiveSession project={project.slug} detail={detail} />
    </>
  );
}
