import { getDatabase } from "@/db/runtime";
import { toErrorResponse } from "@/server/api/http";
import { invalidInput, unauthenticated } from "@/server/errors";
import {
  auditCsvHeader,
  auditCsvLine,
  auditFiltersFromQuery,
  exportAudit,
} from "@/server/identity/audit";
import { sessionActor } from "@/server/identity/session";
import { authenticatePerson } from "@/server/identity/tokens";

// GET /projects/{slug}/audit/export?format=csv|json plus the audit page's
// filters: the matching audit log as a download, for viewers and above.
// The console's session cookie signs it in, or a personal access token.
// Rows are written a page at a time; exports stop at 50,000 rows.

export async function GET(
  request: Request,
  context: { params: Promise<{ slug: string }> },
) {
  try {
    const { db } = await getDatabase();
    const header = request.headers.get("authorization");
    const actor =
      (await sessionActor(request.headers)) ??
      (header ? await authenticatePerson(db, header) : null);
    if (!actor) throw unauthenticated("Sign in to export the audit log");
    const { slug } = await context.params;
    const url = new URL(request.url);
    const query = Object.fromEntries(url.searchParams.entries());
    const format = query.format ?? "csv";
    if (format !== "csv" && format !== "json") {
      throw invalidInput("Invalid query parameters: format: csv or json", [
        { path: "format", message: "Use csv or json" },
      ]);
    }
    const pages = await exportAudit(db, actor, {
      project: slug,
      ...auditFiltersFromQuery(query),
    });
    const encoder = new TextEncoder();
    let first = true;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(
          encoder.encode(format === "csv" ? auditCsvHeader() : "["),
        );
      },
      async pull(controller) {
        const next = await pages.next();
        if (next.done) {
          if (format === "json") controller.enqueue(encoder.encode("]\n"));
          controller.close();

          return;
        }
        const text =
          format === "csv"
            ? next.value.map(auditCsvLine).join("")
            : next.value
                .map((row) => {
                  const line = `${first ? "\n" : ",\n"}${JSON.stringify(row)}`;
                  first = false;

                  return line;
                })
                .join("");
        controller.enqueue(encoder.encode(text));
      },
      async cancel() {
        await pages.return(undefined);
      },
    });
    const day = new Date().toISOString().slice(0, 10);

    return new Response(body, {
      headers: {
        "content-type":
          format === "csv"
            ? "text/csv; charset=utf-8"
            : "application/json; charset=utf-8",
        "content-disposition": `attachment; filename="audit-${slug}-${day}.${format}"`,
        "cache-control": "no-store",
      },
    });
  } catch (error) {
    return toErrorResponse(error);
  }
}
