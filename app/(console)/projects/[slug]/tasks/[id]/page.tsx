import { notFound } from "next/navigation";
import { orNotFound, requirePageProject } from "@/server/api/page-auth";
import { getTask } from "@/server/orchestration";
import { TaskDetail } from "./task-detail";

export default async function TaskPage(props: {
  params: Promise<{ slug: string; id: string }>;
}) {
  const { slug, id } = await props.params;
  const { db, actor, project, role } = await requirePageProject(slug);
  const task = await orNotFound(getTask(db, actor, { taskId: id }));
  if (task.projectId !== project.id) notFound();

  return (
    <TaskDetail
      project={project.slug}
      taskId={task.id}
      canOperate={role !== "viewer"}
    />
  );
}
