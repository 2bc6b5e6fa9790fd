import { count, eq, sql } from "drizzle-orm";
import { hashPassword } from "better-auth/crypto";
import { z } from "zod";
import { type Database, inTransaction } from "@/db/client";
import { account, user } from "@/db/schema";
import { DomainError, isUniqueViolation } from "@/server/errors";
import { newId, now } from "@/server/runtime";
import type { Actor, Role } from "./actor";
import { recordAudit } from "./audit";
import { parseInput } from "@/server/input";
import { requireInstanceAdmin } from "@/server/identity/access";
import { emailSchema, passwordSchema, roleSchema } from "./schemas";

// People who sign in to the console. Accounts are made by an admin, the
// CLI or the one-time setup page; the password lives in better-auth's
// `account` table (provider "credential") so its email sign-in accepts it.

export const createUserInput = z.object({
  email: emailSchema,
  password: passwordSchema,
  name: z.string().trim().max(100).optional(),
  role: roleSchema.default("operator"),
});

export const setupInput = createUserInput.omit({ role: true });

export interface PublicUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  createdAt: Date;
}

function emailTaken(email: string) {
  return new DomainError("conflict", `A user with email ${email} exists`, [
    { path: "email", message: "A user with this email already exists" },
  ]);
}

async function insertUser(
  tx: Database,
  input: z.infer<typeof createUserInput>,
  passwordHash: string,
): Promise<PublicUser> {
  const at = now();
  const id = newId();
  const name = input.name || input.email.split("@")[0];
  await tx.insert(user).values({
    id,
    name,
    email: input.email,
    emailVerified: false,
    role: input.role,
    createdAt: at,
    updatedAt: at,
  });
  await tx.insert(account).values({
    id: newId(),
    accountId: id,
    providerId: "credential",
    userId: id,
    password: passwordHash,
    createdAt: at,
    updatedAt: at,
  });

  return { id, email: input.email, name, role: input.role, createdAt: at };
}

/** Creates a person who can sign in with email and password. */
export async function createUser(
  db: Database,
  actor: Actor,
  input: z.input<typeof createUserInput>,
): Promise<PublicUser> {
  requireInstanceAdmin(actor, "create users");
  const values = parseInput(createUserInput, input);
  // Hashing is deliberately slow; do it before the transaction opens.
  const passwordHash = await hashPassword(values.password);
  try {
    return await inTransaction(db, async (tx) => {
      const [existing] = await tx
        .select({ id: user.id })
        .from(user)
        .where(eq(user.email, values.email))
        .limit(1);
      if (existing) throw emailTaken(values.email);
      const created = await insertUser(tx, values, passwordHash);
      await recordAudit(tx, actor, {
        action: "user.create",
        targetType: "user",
        targetId: created.id,
        details: { email: created.email, role: created.role },
      });

      return created;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw emailTaken(values.email);
    throw error;
  }
}

/** True while no user exists: the console then offers the setup page. */
export async function needsSetup(db: Database): Promise<boolean> {
  const [row] = await db.select({ users: count() }).from(user);

  return Number(row?.users ?? 0) === 0;
}

/** Creates the first admin, once. Two concurrent calls make at most one
 * admin: an advisory lock orders them and the loser sees a user exists. */
export async function setupFirstAdmin(
  db: Database,
  input: z.input<typeof setupInput>,
): Promise<PublicUser> {
  const values = parseInput(setupInput, input);
  const passwordHash = await hashPassword(values.password);
  const done = new DomainError("conflict", "Setup already done");

  try {
    return await inTransaction(db, async (tx) => {
      await tx.execute(
        sql`select pg_advisory_xact_lock(hashtext('flotilla.first-admin'))`,
      );
      if (!(await needsSetup(tx))) throw done;
      const created = await insertUser(
        tx,
        { ...values, role: "admin" },
        passwordHash,
      );
      const self: Actor = {
        kind: "user",
        userId: created.id,
        email: created.email,
        instanceRole: "admin",
        via: "session",
      };
      await recordAudit(tx, self, {
        action: "setup.first-admin",
        targetType: "user",
        targetId: created.id,
        details: { email: created.email },
      });

      return created;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw done;
    throw error;
  }
}

/** Looks a person up by email, for the CLI and membership forms. */
export async function findUserByEmail(db: Database, email: string) {
  const normalized = parseInput(emailSchema, email);
  const [found] = await db
    .select()
    .from(user)
    .where(eq(user.email, normalized))
    .limit(1);
  if (!found) {
    throw new DomainError("not_found", `No user has email ${normalized}`, [
      { path: "email", message: "No user has this email" },
    ]);
  }

  return found;
}
