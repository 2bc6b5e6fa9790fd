import { AccountShell } from "@/components/auth-shell";
import { requirePageActor } from "@/server/api/page-auth";
import { ProjectsPanel } from "./projects-panel";

export default async function ProjectsPage() {
  const actor = await requirePageActor();

  return (
    <AccountShell email={actor.email}>
      <h1>Projects</h1>
      <ProjectsPanel canCreate={actor.instanceRole !== "viewer"} />
    </AccountShell>
  );
}
