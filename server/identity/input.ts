import type { z, ZodType } from "zod";
import type { Database } from "@/db/client";
import { forbidden, invalidInput, type FieldIssue } from "@/server/errors";
import type { Actor } from "./actor";

// Shared by the identity domain functions: input validation that reports
// field paths, and the instance-level permission checks.

export function parseInput<S extends ZodType>(
  schema: S,
  input: unknown,
): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issues: FieldIssue[] = parsed.error.issues.map((issue) => ({
      path: issue.path.map(String).join(".") || "(root)",
      message: issue.message,
    }));
    const summary = issues
      .slice(0, 3)
      .map((issue) => `${issue.path}: ${issue.message}`)
      .join("; ");

    throw invalidInput(`Invalid input: ${summary}`, issues);
  }

  return parsed.data as z.infer<S>;
}

/** Instance admins and the local CLI manage users. */
export function requireInstanceAdmin(actor: Actor, what: string): void {
  if (actor.kind === "cli") return;
  if (actor.kind === "user" && actor.instanceRole === "admin") return;

  throw forbidden(`Only an instance admin may ${what}`);
}

/** The transaction handle drizzle passes to `db.transaction`; it accepts
 * every query a Database does. */
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** Runs `work` in one transaction, typed as a Database so the helpers
 * (recordAudit, issueToken) take it as they are. */
export function inTransaction<T>(
  db: Database,
  work: (tx: Database) => Promise<T>,
): Promise<T> {
  return db.transaction((tx) => work(tx as unknown as Database));
}
