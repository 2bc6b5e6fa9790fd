import { eq, like, or } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client";
import { apiTokens } from "@/db/schema";
import { conflict, notFound } from "@/server/errors";
import { parseInput } from "@/server/input";
import { requireInstanceAdmin } from "./access";
import type { Actor } from "./actor";
import { revokeToken } from "./agent-tokens";
import { publicToken, revokeScopedToken } from "./token-view";
import { hashToken, TOKEN_PREFIX } from "./tokens";

// Revoking a token named the way an operator holding a terminal knows it:
// its id, the display prefix the console shows ("flt_Ab12Cd34"), or the
// whole secret. An agent token is revoked by its project's admins (through
// revokeToken); another person's personal token by an instance admin.

export const revokeTokenByRefInput = z.object({
  token: z
    .string()
    .trim()
    .min(
      6,
      "Give the token's id, its prefix (at least 6 characters) or the token",
    ),
});

const uuidPattern =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The one token `ref` names; an unknown or ambiguous reference is an
 * error that says which. */
async function findTokenByRef(db: Database, ref: string) {
  const escaped = ref.replace(/[\\%_]/g, (char) => `\\${char}`);
  const match = uuidPattern.test(ref)
    ? eq(apiTokens.id, ref)
    : ref.length > 12 && ref.startsWith(TOKEN_PREFIX)
      ? or(eq(apiTokens.tokenHash, hashToken(ref)), eq(apiTokens.prefix, ref))
      : like(apiTokens.prefix, `${escaped}%`);
  const found = await db.select().from(apiTokens).where(match).limit(5);
  if (found.length === 0) throw notFound("Token", ref);
  if (found.length > 1) {
    throw conflict(
      `'${ref}' matches ${found.length} tokens (` +
        `${found.map((t) => t.prefix).join(", ")}); give more of it or its id`,
      { prefixes: found.map((t) => t.prefix) },
    );
  }

  return found[0];
}

/** Revokes the token `input.token` names; revoking twice changes nothing
 * and is audited once. */
export async function revokeTokenByRef(
  db: Database,
  actor: Actor,
  input: z.input<typeof revokeTokenByRefInput>,
) {
  const { token: ref } = parseInput(revokeTokenByRefInput, input);
  const token = await findTokenByRef(db, ref);
  if (token.kind === "agent" && token.projectId) {
    return revokeToken(db, actor, {
      project: token.projectId,
      tokenId: token.id,
    });
  }
  const own = actor.kind === "user" && actor.userId === token.userId;
  if (!own) requireInstanceAdmin(actor, "revoke another person's token");
  if (token.revokedAt) return publicToken(token);

  return revokeScopedToken(
    db,
    actor,
    token.id,
    eq(apiTokens.kind, token.kind),
    {
      action: "personal-token.revoke",
    },
  );
}
