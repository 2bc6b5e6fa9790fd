import { requirePageProject } from "@/server/api/page-auth";
import { EscalationsInbox } from "./inbox";

export default async function EscalationsPage(props: {
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await props.params;
  const { project, role } = await requirePageProject(slug);

  return (
    <>
      <h1>Escalations</h1>
      <p className="muted">
        Blocked tasks, scope conflicts, tasks that used up their attempts and
        leases that keep lapsing: what agents cannot settle themselves.
      </p>
      <EscalationsInbox project={project.slug} role={role} />
    </>
  );
}
