import { requirePageProject } from "@/server/api/page-auth";
import { ApprovalsQueue } from "./queue";

export default async function ApprovalsPage(props: {
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await props.params;
  const { project, role } = await requirePageProject(slug);

  return (
    <>
      <h1>Approvals</h1>
      <p className="muted">
        Everything that waits on a person: plans to review, tool calls an
        &quot;ask&quot; guardrail holds, and budget increases agents asked for.
        A waiting agent hears the decision at once, or on its next call.
      </p>
      <ApprovalsQueue project={project.slug} role={role} />
    </>
  );
}
