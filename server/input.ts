import { ZodAny, ZodUnknown, type z, type ZodType } from "zod";
import { invalidInput, zodIssues, type FieldIssue } from "./errors";

export { zodIssues };

// Input validation shared by every domain function and transport: a zod
// failure becomes one invalid_input error listing each field path.

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

  // A free-form payload (z.unknown()) is cleaned by the domain function
  // that stores it; named fields are refused here instead.
  const freeForm = schema instanceof ZodUnknown || schema instanceof ZodAny;
  const unstorable = freeForm ? [] : unstorableText(parsed.data);
  if (unstorable.length > 0) {
    throw invalidInput(
      `Invalid ${where}: ${unstorable[0].path}: ${unstorable[0].message}`,
      unstorable,
    );
  }

  return parsed.data as z.infer<S>;
}

const MAX_WALK_DEPTH = 32;

/** Strings PostgreSQL cannot store in a text column: NUL characters and
 * lone UTF-16 surrogates. Free-form payloads are cleaned where they are
 * stored instead; this guards the named fields of ordinary inputs. */
function unstorableText(value: unknown, path: string[] = []): FieldIssue[] {
  if (typeof value === "string") {
    if (value.includes("\u0000") || !value.isWellFormed()) {
      return [
        {
          path: path.join(".") || "(root)",
          message: "must not contain NUL or unpaired surrogate characters",
        },
      ];
    }

    return [];
  }
  if (!value || typeof value !== "object" || path.length > MAX_WALK_DEPTH) {
    return [];
  }
  if (value instanceof Date) return [];

  return Object.entries(value).flatMap(([key, item]) =>
    unstorableText(item, [...path, key]),
  );
}
