import { notFound } from "next/navigation";
import { orNotFound, requirePageProject } from "@/server/api/page-auth";
import { getPlan } from "@/server/orchestration";
import { PlanReview } from "./plan-review";

export default async function PlanPage(props: {
  params: Promise<{ slug: string; id: string }>;
}) {
  const { slug, id } = await props.params;
  const { db, actor, project, role } = await requirePageProject(slug);
  const plan = await orNotFound(getPlan(db, actor, { planId: id }));
  if (plan.projectId !== project.id) notFound();

  return (
    <PlanReview
      project={project.slug}
      planId={plan.id}
      canOperate={role !== "viewer"}
    />
  );
}
