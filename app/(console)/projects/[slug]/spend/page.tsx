import { Suspense } from "react";
import { requirePageProject } from "@/server/api/page-auth";
import { SpendPanel } from "./spend-panel";

export default async function SpendPage(props: {
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await props.params;
  const { project } = await requirePageProject(slug);

  return (
    <>
      <h1>Spend</h1>
      {/* The filters are read from the URL on the client. */}
      <Suspense fallback={<p className="muted">Loading spend…</p>}>
        <SpendPanel project={project.slug} />
      </Suspense>
    </>
  );
}
