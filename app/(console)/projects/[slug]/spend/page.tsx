import { requirePageProject } from "@/server/api/page-auth";
import { SavingsChart } from "@/components/charts/savings-chart";
import { SpendPanel } from "./spend-panel";

export default async function SpendPage(props: {
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await props.params;
  const { project } = await requirePageProject(slug);

  return (
    <>
      <h1>Spend</h1>
      <SpendPanel project={project.slug} />
      <SavingsChart project={project.slug} />
    </>
  );
}
