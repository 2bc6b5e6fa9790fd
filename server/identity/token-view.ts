import { and, eq, type SQL } from "drizzle-orm";
import { type Database, inTransaction } from "@/db/client";
import { apiTokens } from "@/db/schema";
import { notFound } from "@/server/errors";
import { now } from "@/server/runtime";
import type { Actor } from "./actor";
import { recordAudit, type AuditEntry } from "./audit";

type TokenRow = typeof apiTokens.$inferSelect;

export type TokenState = "active" | "expired" | "revoked";

/** A token as people see it: display prefix and dates, never the hash. */
export function publicToken(token: TokenRow) {
  let state: TokenState = "active";
  if (token.revokedAt) state = "revoked";
  else if (token.expiresAt && token.expiresAt <= now()) state = "expired";

  return {
    id: token.id,
    kind: token.kind,
    name: token.name,
    prefix: token.prefix,
    agentId: token.agentId,
    createdBy: token.createdBy,
    createdAt: token.createdAt,
    lastUsedAt: token.lastUsedAt,
    expiresAt: token.expiresAt,
    revokedAt: token.revokedAt,
    state,
  };
}

export type PublicToken = ReturnType<typeof publicToken>;

/** Revokes the token `tokenId` if it also matches `scope` (its project or
 * its owner), auditing the change; revoking twice changes nothing. */
export async function revokeScopedToken(
  db: Database,
  actor: Actor,
  tokenId: string,
  scope: SQL | undefined,
  audit: Pick<AuditEntry, "action" | "projectId">,
) {
  const [token] = await db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.id, tokenId), scope))
    .limit(1);
  if (!token) throw notFound("Token", tokenId);
  if (token.revokedAt) return publicToken(token);

  return inTransaction(db, async (tx) => {
    const [revoked] = await tx
      .update(apiTokens)
      .set({ revokedAt: now() })
      .where(eq(apiTokens.id, token.id))
      .returning();
    await recordAudit(tx, actor, {
      ...audit,
      targetType: "token",
      targetId: token.id,
      details: { prefix: token.prefix, name: token.name },
    });

    return publicToken(revoked);
  });
}
