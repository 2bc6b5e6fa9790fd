import { z } from "zod";
import { invalidInput } from "@/server/errors";

// Query-string rules shared by every agent and person route: numbers are
// written in plain decimal, a parameter the route does not take is refused
// rather than silently ignored, and so is a second value for a parameter
// that takes one.

// Decimal digits with an optional leading minus; `min` then refuses a
// negative number with a message saying so.
const DECIMAL = /^-?\d+$/;
// A URL can carry thousands of names; the answer lists the first ones.
const MAX_NAMED = 20;
// An unknown name is echoed back cut to this many characters.
const MAX_NAME_LENGTH = 60;

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
    .string({ error: expected })
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
    .map(shownName);
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

/** A parameter name as an answer shows it: a long one is cut short. */
function shownName(name: string): string {
  if (!name) return "(empty name)";
  const characters = [...name];
  if (characters.length <= MAX_NAME_LENGTH) return name;

  return `${characters.slice(0, MAX_NAME_LENGTH).join("")}…`;
}

/** Whether a query schema's field takes a list, i.e. the parameter may be
 * given more than once (`path=a&path=b`). */
function takesList(schema: z.core.$ZodType): boolean {
  const def = schema._zod.def;
  switch (def.type) {
    case "array":
    case "tuple":
      return true;
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "catch":
    case "readonly":
    case "nonoptional":
      return takesList((def as z.core.$ZodOptionalDef).innerType);
    case "pipe": {
      // A preprocess step turns one value into a list; its output decides.
      const { in: input, out } = def as z.core.$ZodPipeDef;

      return input._zod.def.type === "transform"
        ? takesList(out)
        : takesList(input);
    }
    case "union":
      return (def as z.core.$ZodUnionDef).options.some(takesList);
    default:
      return false;
  }
}

/** Refuses a parameter given more than once when the route takes one
 * value for it, naming each such parameter. Names the schema does not
 * declare are left to refuseUnknownParameters. */
export function refuseRepeatedParameters(
  url: URL,
  schema: z.ZodObject | undefined,
) {
  if (!schema) return;
  const shape = schema.shape as Record<string, z.core.$ZodType>;
  const repeated = [...new Set(url.searchParams.keys())].filter(
    (name) =>
      url.searchParams.getAll(name).length > 1 &&
      Object.hasOwn(shape, name) &&
      !takesList(shape[name]),
  );
  if (repeated.length === 0) return;
  const issues = repeated.map((name) => ({
    path: name,
    message: "Give this parameter once",
  }));
  const summary = issues
    .slice(0, 3)
    .map((issue) => `${issue.path}: ${issue.message}`)
    .join("; ");

  throw invalidInput(`Invalid query parameters: ${summary}`, issues);
}
