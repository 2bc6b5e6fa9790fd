import type { z, ZodError, ZodType } from "zod";
import { invalidInput, type FieldIssue } from "./errors";

// Input validation shared by every domain function and transport: a zod
// failure becomes one invalid_input error listing each field path.

export function zodIssues(error: ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join(".") || "(root)",
    message: issue.message,
  }));
}

/** Parses `input` with `schema` or throws a 400 naming every bad field;
 * `where` names the input in the message ("request body", "input"). */
export function parseInput<S extends ZodType>(
  schema: S,
  input: unknown,
  where = "input",
): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issues = zodIssues(parsed.error);
    const summary = issues
      .slice(0, 3)
      .map((issue) => `${issue.path}: ${issue.message}`)
      .join("; ");

    throw invalidInput(`Invalid ${where}: ${summary}`, issues);
  }

  return parsed.data as z.infer<S>;
}
