import { requirePageProject } from "@/server/api/page-auth";
import { ApprovalSettingsPanel } from "./approval-settings-panel";
import { LimitsSettingsPanel } from "./limits-settings-panel";
import { OrchestrationSettingsPanel } from "./orchestration-settings-panel";
import { RetentionSettingsPanel } from "./retention-settings-panel";
import { WebhooksPanel } from "./webhooks-panel";

export default async function ProjectSettingsPage(props: {
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await props.params;
  const { project, role } = await requirePageProject(slug);

  return (
    <>
      <h1>Settings</h1>
      <OrchestrationSettingsPanel project={project.slug} />
      <LimitsSettingsPanel project={project.slug} />
      <ApprovalSettingsPanel project={project.slug} />
      <RetentionSettingsPanel project={project.slug} />
      {role === "admin" && <WebhooksPanel project={project.slug} />}
    </>
  );
}
