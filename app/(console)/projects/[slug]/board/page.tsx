import { Suspense } from "react";
import { requirePageProject } from "@/server/api/page-auth";
import { Board } from "./board";
import { Reservations } from "./reservations";

export default async function BoardPage(props: {
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await props.params;
  const { project, role } = await requirePageProject(slug);

  return (
    <>
      <h1>Board</h1>
      {/* The board reads its filters from the URL query. */}
      <Suspense fallback={<p className="muted">Loading board…</p>}>
        <Board project={project.slug} canOperate={role !== "viewer"} />
      </Suspense>
      <Reservations project={project.slug} />
    </>
  );
}
