/** Longest summary kept; the row's width cuts it shorter with an ellipsis. */
const MAX_SUMMARY = 160;

function text(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

/**
 * One line saying what a tool call did, for its timeline row: the command
 * of a shell tool, the path of a file tool, else null. `input` is the
 * event's input as the timeline receives it, secrets already masked.
 */
export function toolSummary(input: unknown): string | null {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    return null;
  }
  const fields = input as Record<string, unknown>;
  const found =
    text(fields.command) ??
    text(fields.file_path) ??
    text(fields.notebook_path) ??
    text(fields.path);
  if (found === null) return null;
  const line = found.replace(/\s+/g, " ").trim();

  return line.length > MAX_SUMMARY
    ? `${line.slice(0, MAX_SUMMARY - 1)}…`
    : line;
}
