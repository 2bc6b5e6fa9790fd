import { requirePageProject } from "@/server/api/page-auth";
import { BudgetsPanel } from "./budgets-panel";
import { FlagRulesPanel } from "./flag-rules-panel";
import { KillSwitchPanel } from "./kill-switch-panel";
import { RulesPanel } from "./rules-panel";

export default async function GuardrailsPage(props: {
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await props.params;
  const { project, role } = await requirePageProject(slug);

  return (
    <>
      <h1>Guardrails</h1>
      <KillSwitchPanel project={project.slug} role={role} />
      <BudgetsPanel project={project.slug} role={role} />
      <RulesPanel project={project.slug} role={role} />
      <FlagRulesPanel project={project.slug} role={role} />
    </>
  );
}
