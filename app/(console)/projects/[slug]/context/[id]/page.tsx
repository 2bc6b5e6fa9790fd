import { orNotFound, requirePageProject } from "@/server/api/page-auth";
import { getDocument } from "@/server/context";
import { DocumentView } from "./document-view";

export default async function ContextDocumentPage(props: {
  params: Promise<{ slug: string; id: string }>;
}) {
  const { slug, id } = await props.params;
  const { db, actor, project, role } = await requirePageProject(slug);
  const document = await orNotFound(
    getDocument(db, actor, { project: project.slug, documentId: id }),
  );

  return (
    <DocumentView
      project={project.slug}
      documentId={document.id}
      canOperate={role !== "viewer"}
    />
  );
}
