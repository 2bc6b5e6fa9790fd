import { and, desc, eq } from "drizzle-orm";
import { z } from "zod";
import { type Database, inTransaction } from "@/db/client";
import { apiTokens } from "@/db/schema";
import { forbidden } from "@/server/errors";
import { actorLabel, type Actor } from "./actor";
import { expiryFromDays } from "./agents";
import { recordAudit } from "./audit";
import { parseInput } from "@/server/input";
import { expiresInDaysSchema, tokenNameSchema } from "./schemas";
import { publicToken, revokeScopedToken } from "./token-view";
import { issueToken } from "./tokens";
import { findUserByEmail } from "./users";

// Personal access tokens: a person's bearer token for the read API, acting
// with that person's roles. People manage their own; the CLI (which holds
// the database) may make one for anybody by email.

export const createPersonalTokenInput = z.object({
  /** Whose token; only the CLI names someone else. */
  email: z.string().optional(),
  name: tokenNameSchema.optional(),
  expiresInDays: expiresInDaysSchema.optional(),
});

async function owner(db: Database, actor: Actor, email: string | undefined) {
  if (actor.kind === "agent") {
    throw forbidden("Agents may not hold personal access tokens");
  }
  if (actor.kind === "user") {
    if (email && email.trim().toLowerCase() !== actor.email) {
      throw forbidden("You may only make personal tokens for yourself");
    }

    return { id: actor.userId, email: actor.email };
  }
  if (!email) throw forbidden("Name the user the token is for (--email)");
  const person = await findUserByEmail(db, email);

  return { id: person.id, email: person.email };
}

export async function createPersonalToken(
  db: Database,
  actor: Actor,
  input: z.input<typeof createPersonalTokenInput>,
) {
  const values = parseInput(createPersonalTokenInput, input);
  const person = await owner(db, actor, values.email);

  return inTransaction(db, async (tx) => {
    const { token, secret } = await issueToken(tx, {
      kind: "personal",
      name: values.name ?? "personal token",
      userId: person.id,
      createdBy: actorLabel(actor),
      expiresAt: expiryFromDays(values.expiresInDays),
    });
    await recordAudit(tx, actor, {
      action: "personal-token.create",
      targetType: "token",
      targetId: token.id,
      details: { owner: person.email, prefix: token.prefix },
    });

    return { token: publicToken(token), email: person.email, secret };
  });
}

function requireUser(actor: Actor) {
  if (actor.kind !== "user") {
    throw forbidden("Only a signed-in person has personal tokens");
  }

  return actor;
}

/** The signed-in person's own tokens, newest first. */
export async function listPersonalTokens(db: Database, actor: Actor) {
  const person = requireUser(actor);
  const rows = await db
    .select()
    .from(apiTokens)
    .where(
      and(eq(apiTokens.userId, person.userId), eq(apiTokens.kind, "personal")),
    )
    .orderBy(desc(apiTokens.createdAt));

  return rows.map(publicToken);
}

export const revokePersonalTokenInput = z.object({
  tokenId: z.uuid("Token id must be a UUID"),
});

export async function revokePersonalToken(
  db: Database,
  actor: Actor,
  input: z.input<typeof revokePersonalTokenInput>,
) {
  const person = requireUser(actor);
  const values = parseInput(revokePersonalTokenInput, input);

  return revokeScopedToken(
    db,
    actor,
    values.tokenId,
    and(eq(apiTokens.userId, person.userId), eq(apiTokens.kind, "personal")),
    { action: "personal-token.revoke" },
  );
}
