import { z } from "zod";
import { roles } from "./actor";

// Input schemas for the identity domain, shared by tRPC, the CLI and the
// domain functions themselves.

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email("Enter a valid email address"));

export const passwordSchema = z
  .string()
  .min(8, "Password must be at least 8 characters")
  .max(128, "Password must be at most 128 characters");

export const roleSchema = z.enum(roles, {
  error: "Role must be admin, operator or viewer",
});

export const slugSchema = z
  .string()
  .trim()
  .min(2, "Slug must be at least 2 characters")
  .max(40, "Slug must be at most 40 characters")
  .regex(
    /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/,
    "Slug may hold lowercase letters, digits and dashes, " +
      "and must start and end with a letter or digit",
  );

export const agentNameSchema = z
  .string()
  .trim()
  .min(1, "Name is required")
  .max(64, "Name must be at most 64 characters")
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    "Name may hold letters, digits, dots, dashes and underscores",
  );

export const tokenNameSchema = z
  .string()
  .trim()
  .min(1, "Name is required")
  .max(80, "Name must be at most 80 characters");

export const expiresInDaysSchema = z
  .number()
  .int("Expiry must be a whole number of days")
  .min(1, "Expiry must be at least 1 day")
  .max(3650, "Expiry must be at most 3650 days");

export const reasonSchema = z
  .string()
  .trim()
  .max(500, "Reason must be at most 500 characters");

const capabilityTag = z
  .string()
  .trim()
  .min(1, "A capability tag must not be empty")
  .max(100, "A capability tag must be at most 100 characters");

/** An agent's capability tags; a tag listed twice is kept once. */
export const capabilityTagsSchema = z
  .array(capabilityTag)
  .max(50, "At most 50 capability tags")
  .transform((tags) => [...new Set(tags)]);
