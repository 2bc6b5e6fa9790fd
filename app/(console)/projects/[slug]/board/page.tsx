import { requirePageProject } from "@/server/api/page-auth";
import { Board } from "./board";

export default async function BoardPage(props: {
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await props.params;
  const { project, role } = await requirePageProject(slug);

  return (
    <>
      <h1>Board</h1>
      <Board project={project.slug} canOperate={role !== "viewer"} />
    </>
  );
}
