import { requirePageProject } from "@/server/api/page-auth";
import { NotificationsInbox } from "./inbox";

export default async function NotificationsPage(props: {
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await props.params;
  const { project } = await requirePageProject(slug);

  return (
    <>
      <h1>Notifications</h1>
      <p className="muted">
        Budget alerts, critical red flags, tasks that keep failing or lapsing
        and approvals waiting, addressed to you. Unread first.
      </p>
      <NotificationsInbox project={project.slug} />
    </>
  );
}
