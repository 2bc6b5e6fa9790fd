import { requirePageProject } from "@/server/api/page-auth";
import { ContextPanel } from "./context-panel";

export default async function ContextPage(props: {
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await props.params;
  const { project, role } = await requirePageProject(slug);

  return (
    <>
      <h1>Context</h1>
      <ContextPanel
        project={project.slug}
        canUpload={role !== "viewer"}
        canAdmin={role === "admin"}
      />
    </>
  );
}
