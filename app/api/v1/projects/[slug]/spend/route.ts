import { z } from "zod";
import { personRoute } from "@/server/api/http";
import { projectSpend, spendCsv } from "@/server/observability/spend";

const query = z.object({
  from: z.string().optional(),
  to: z.string().optional(),
  group_by: z.string().default("day"),
  format: z.enum(["json", "csv"]).default("json"),
});

// Spend for people with a personal access token (viewer or above).
// group_by takes one dimension or two joined by a comma (day,agent).
export const GET = personRoute({
  query,
  handler: async ({ db, actor, params, query }) => {
    const report = await projectSpend(db, actor, {
      project: params.slug,
      from: query.from,
      to: query.to,
      groupBy: query.group_by,
    });
    if (query.format === "json") return report;

    return new Response(spendCsv(report), {
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="${report.project}-spend.csv"`,
      },
    });
  },
});
