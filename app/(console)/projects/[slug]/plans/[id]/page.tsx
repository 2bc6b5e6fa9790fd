import { notFound } from "next/navigation";
import { requirePageProject } from "@/server/api/page-auth";
import { DomainError } from "@/server/errors";
import { getPlan } from "@/server/orchestration";
import { PlanReview } from "./plan-review";

export default async function PlanPage(props: {
  params: Promise<{ slug: string; id: string }>;
}) {
  const { slug, id } = await props.params;
  const { db, actor, project, role } = await requirePageProject(slug);
  const plan = await getPlan(db, actor, { planId: id }).catch((error) => {
    // A malformed or unknown id is a missing page, not a crash.
    if (error instanceof DomainError) return null;
    throw error;
  });
  if (!plan || plan.projectId !== project.id) notFound();

  return (
    <PlanReview
      project={project.slug}
      planId={plan.id}
      canOperate={role !== "viewer"}
    />
  );
}
