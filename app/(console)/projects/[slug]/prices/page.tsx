import { requirePageProject } from "@/server/api/page-auth";
import { OverridesPanel } from "./overrides-panel";
import { PriceTablePanel } from "./price-table-panel";
import { UnpricedPanel } from "./unpriced-panel";

// Prices: the models nothing prices yet (and repricing them), the
// project's own prices, and the table in the repository they come before.

export default async function PricesPage(props: {
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await props.params;
  const { project, role } = await requirePageProject(slug);
  const canEdit = role === "admin";

  return (
    <>
      <h1>Prices</h1>
      <UnpricedPanel project={project.slug} canEdit={canEdit} />
      <OverridesPanel project={project.slug} canEdit={canEdit} />
      <PriceTablePanel project={project.slug} />
    </>
  );
}
