import { requirePageProject } from "@/server/api/page-auth";
import { OrchestrationSettingsPanel } from "./orchestration-settings-panel";

export default async function ProjectSettingsPage(props: {
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await props.params;
  const { project } = await requirePageProject(slug);

  return (
    <>
      <h1>Settings</h1>
      <OrchestrationSettingsPanel project={project.slug} />
    </>
  );
}
