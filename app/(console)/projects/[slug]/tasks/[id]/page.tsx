import { notFound } from "next/navigation";
import { requirePageProject } from "@/server/api/page-auth";
import { DomainError } from "@/server/errors";
import { getTask } from "@/server/orchestration";
import { TaskDetail } from "./task-detail";

export default async function TaskPage(props: {
  params: Promise<{ slug: string; id: string }>;
}) {
  const { slug, id } = await props.params;
  const { db, actor, project, role } = await requirePageProject(slug);
  const task = await getTask(db, actor, { taskId: id }).catch((error) => {
    // A malformed or unknown id is a missing page, not a crash.
    if (error instanceof DomainError) return null;
    throw error;
  });
  if (!task || task.projectId !== project.id) notFound();

  return (
    <TaskDetail
      project={project.slug}
      taskId={task.id}
      canOperate={role !== "viewer"}
    />
  );
}
