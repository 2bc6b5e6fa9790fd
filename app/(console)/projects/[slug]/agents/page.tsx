import { requirePageProject } from "@/server/api/page-auth";
import { AgentsPanel } from "./agents-panel";
import { DirectivesPanel } from "./directives-panel";
import { TokensPanel } from "./tokens-panel";

export default async function AgentsPage(props: {
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await props.params;
  const { project, role } = await requirePageProject(slug);

  return (
    <>
      <h1>Agents & tokens</h1>
      <AgentsPanel project={project.slug} role={role} />
      <TokensPanel project={project.slug} role={role} />
      <DirectivesPanel project={project.slug} role={role} />
    </>
  );
}
