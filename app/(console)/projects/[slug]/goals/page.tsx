import { requirePageProject } from "@/server/api/page-auth";
import { GoalsPanel } from "./goals-panel";

export default async function GoalsPage(props: {
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await props.params;
  const { project, role } = await requirePageProject(slug);

  return (
    <>
      <h1>Goals</h1>
      <GoalsPanel project={project.slug} canOperate={role !== "viewer"} />
    </>
  );
}
