import { notFound } from "next/navigation";
import { orNotFound, requirePageProject } from "@/server/api/page-auth";
import { getGoal } from "@/server/orchestration";
import { GoalDetail } from "./goal-detail";

export default async function GoalPage(props: {
  params: Promise<{ slug: string; id: string }>;
}) {
  const { slug, id } = await props.params;
  const { db, actor, project, role } = await requirePageProject(slug);
  const goal = await orNotFound(getGoal(db, actor, { goalId: id }));
  if (goal.projectId !== project.id) notFound();

  return (
    <GoalDetail
      project={project.slug}
      goalId={goal.id}
      canOperate={role !== "viewer"}
    />
  );
}
