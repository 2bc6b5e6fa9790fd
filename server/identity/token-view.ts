import type { apiTokens } from "@/db/schema";
import { now } from "@/server/runtime";

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
