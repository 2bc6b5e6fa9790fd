import { notFound } from "next/navigation";
import { requirePageProject } from "@/server/api/page-auth";
import { getDocument } from "@/server/context";
import { DomainError } from "@/server/errors";
import { DocumentView } from "./document-view";

export default async function ContextDocumentPage(props: {
  params: Promise<{ slug: string; id: string }>;
}) {
  const { slug, id } = await props.params;
  const { db, actor, project, role } = await requirePageProject(slug);
  const document = await getDocument(db, actor, {
    project: project.slug,
    documentId: id,
  }).catch((error) => {
    // A malformed or unknown id is a missing page, not a crash.
    if (error instanceof DomainError) return null;
    throw error;
  });
  if (!document) notFound();

  return (
    <DocumentView
      project={project.slug}
      documentId={document.id}
      canOperate={role !== "viewer"}
    />
  );
}
