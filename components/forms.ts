// Small helpers the console forms share: field errors from a tRPC error,
// and one way to print times (UTC, so server and browser agree).

interface ErrorWithData {
  message?: string;
  data?: { details?: unknown } | null;
}

/** Field path -> message, from a failed tRPC call's details. */
export function fieldErrors(error: unknown): Record<string, string> {
  const details = (error as ErrorWithData | null)?.data?.details;
  if (!Array.isArray(details)) return {};
  const out: Record<string, string> = {};
  for (const item of details as { path?: unknown; message?: unknown }[]) {
    if (typeof item.path === "string" && typeof item.message === "string") {
      out[item.path] ??= item.message;
    }
  }

  return out;
}

/** The message to show above a form when no field explains the failure. */
export function formError(error: unknown): string | null {
  if (!error) return null;
  if (Object.keys(fieldErrors(error)).length > 0) return null;

  return (error as ErrorWithData).message ?? "Something went wrong";
}

export function formatTime(value: Date | string | null | undefined): string {
  if (!value) return "never";
  const date = value instanceof Date ? value : new Date(value);

  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** Style for a select in a filter row: a long option (goal, task or agent
 * name) ends in an ellipsis instead of widening the row; the open list
 * still shows it whole. */
export const selectCap = {
  maxWidth: "14rem",
  overflow: "hidden",
  textOverflow: "ellipsis",
  whiteSpace: "nowrap",
} as const;
