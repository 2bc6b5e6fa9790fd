import { notFound } from "next/navigation";
import { requirePageProject } from "@/server/api/page-auth";
import { DomainError } from "@/server/errors";
import { getGoal } from "@/server/orchestration";
import { GoalDetail } from "./goal-detail";

export default async function GoalPage(props: {
  params: Promise<{ slug: string; id: string }>;
}) {
  const { slug, id } = await props.params;
  const { db, actor, project, role } = await requirePageProject(slug);
  const goal = await getGoal(db, actor, { goalId: id }).catch((error) => {
    // A malformed or unknown id is a missing page, not a crash.
    if (error instanceof DomainError) return null;
    throw error;
  });
  if (!goal || goal.projectId !== project.id) notFound();

  return (
    <GoalDetail
      project={project.slug}
      goalId={goal.id}
      canOperate={role !== "viewer"}
    />
  );
}
