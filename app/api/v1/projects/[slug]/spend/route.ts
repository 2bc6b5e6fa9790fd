import { z } from "zod";
import { personRoute, refuseOtherMethods } from "@/server/api/http";
import { projectSpend, spendCsv } from "@/server/observability/spend";

const dimensions = ["day", "agent", "model", "goal", "task"];

// A calendar date that exists (2026-02-30 does not) or an ISO 8601 time.
const bound = z.string().refine((value) => {
  const time = Date.parse(
    /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value,
  );
  if (Number.isNaN(time)) return false;
  const year = new Date(time).getUTCFullYear();
  if (year < 1970 || year > 9999) return false;

  return (
    !/^\d{4}-\d{2}-\d{2}$/.test(value) ||
    new Date(time).toISOString().startsWith(value)
  );
}, "expected an existing date (YYYY-MM-DD) or an ISO 8601 time");

const query = z.object({
  from: bound.optional(),
  to: bound.optional(),
  group_by: z
    .string()
    .default("day")
    .refine(
      (value) => {
        const parts = value.split(",").map((part) => part.trim());

        return parts.length <= 2 && parts.every((p) => dimensions.includes(p));
      },
      `expected one or two of ${dimensions.join(", ")}, joined by a comma`,
    ),
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

// Any other method: 405 with the usual error body and an Allow header.
export const { POST, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  GET,
});
