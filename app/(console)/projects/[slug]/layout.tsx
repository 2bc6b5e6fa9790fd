import type { ReactNode } from "react";
import { ProjectNav } from "@/components/ProjectNav";
import { requirePageProject } from "@/server/api/page-auth";

export default async function ProjectLayout(props: {
  children: ReactNode;
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await props.params;
  const { actor, project, role } = await requirePageProject(slug);

  return (
    <div className="shell">
      <ProjectNav
        slug={project.slug}
        name={project.name}
        role={role}
        email={actor.email}
      />
      <main className="main">{props.children}</main>
    </div>
  );
}
