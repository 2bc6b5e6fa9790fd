import { z } from "zod";
import { invalidInput } from "@/server/errors";

// Query-string rules shared by every agent and person route: numbers are
// written in plain decimal, and a parameter the route does not take is
// refused rather than silently ignored.

// Decimal digits with an optional leading minus; `min` then refuses a
// negative number with a message saying so.
const DECIMAL = /^-?\d+$/;
// A URL can carry thousands of names; the answer lists the first ones.
const MAX_NAMED = 20;

/** A whole number in a query string, between `min` and `max`, or
 * `fallback` when absent. Only decimal digits (and a leading minus) are
 * read: "0x2", "1e0", " 2", "2.0", "+2" and an empty value are refused,
 * where z.coerce.number() would read them as numbers. */
export function queryInteger(bounds: {
  min: number;
  max: number;
}): ReturnType<typeof integerText>;
export function queryInteger(bounds: {
  min: number;
  max: number;
  fallback: number;
}): z.ZodDefault<ReturnType<typeof integerText>>;
export function queryInteger({
  min,
  max,
  fallback,
}: {
  min: number;
  max: number;
  fallback?: number;
}) {
  const schema = integerText(min, max);
  if (fallback === undefined) return schema;
  const withFallback = schema.default(fallback);
  queryDefaults.set(withFallback, fallback);

  return withFallback;
}

/** The defaults of query integers, for the OpenAPI document: zod leaves a
 * default out of an input schema when a transform sits under it. */
export const queryDefaults = new WeakMap<object, number>();

function integerText(min: number, max: number) {
  const expected = "Must be a whole number written in decimal digits";

  return z
    .string({
      error: (issue) =>
        Array.isArray(issue.input) ? "Give this parameter once" : expected,
    })
    .refine((value) => DECIMAL.test(value), expected)
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, `Must be at least ${min}`)
        .max(max, `Must be at most ${max}`),
    )
    .meta({ type: "integer", minimum: min, maximum: max });
}

/** The parameter names a route's query schema takes. */
export function queryNames(schema: z.ZodObject | undefined): string[] {
  return schema ? Object.keys(schema.shape) : [];
}

/** Refuses query parameters outside `accepted`, naming each one and what
 * the route takes instead, so a misspelt option is not silently dropped. */
export function refuseUnknownParameters(url: URL, accepted: string[]) {
  const unknown = [...new Set(url.searchParams.keys())]
    .filter((name) => !accepted.includes(name))
    .map((name) => name || "(empty name)");
  if (unknown.length === 0) return;
  const takes =
    accepted.length > 0
      ? `this endpoint takes ${accepted.join(", ")}`
      : "this endpoint takes no query parameters";
  const named = unknown
    .slice(0, 5)
    .map((name) => `'${name}'`)
    .join(", ");
  const more = unknown.length > 5 ? ` and ${unknown.length - 5} more` : "";

  throw invalidInput(
    `Invalid query parameters: unknown ${named}${more}; ${takes}`,
    unknown.slice(0, MAX_NAMED).map((name) => ({
      path: name,
      message: `Unknown query parameter; ${takes}`,
    })),
  );
}
