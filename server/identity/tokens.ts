import crypto from "node:crypto";
import { eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { agents, apiTokens, user } from "@/db/schema";
import { unauthenticated, forbidden } from "@/server/errors";
import { now, newId, randomToken } from "@/server/runtime";
import type { Actor, Role } from "./actor";
import { touchAgentPresence } from "./presence";

// Bearer tokens: "flt_" and 32 random characters. The secret is shown once;
// only its SHA-256 and a short display prefix are stored.

export const TOKEN_PREFIX = "flt_";
const LAST_USED_RESOLUTION_MS = 60_000;

export function hashToken(secret: string): string {
  return crypto.createHash("sha256").update(secret).digest("hex");
}

export function mintToken(): { secret: string; hash: string; prefix: string } {
  const secret = `${TOKEN_PREFIX}${randomToken(24)}`;

  return { secret, hash: hashToken(secret), prefix: secret.slice(0, 12) };
}

export interface IssueTokenInput {
  kind: "agent" | "personal";
  name: string;
  projectId?: string;
  agentId?: string;
  userId?: string;
  createdBy: string;
  expiresAt?: Date | null;
}

/** Stores a new token and returns its secret (the only time it is seen). */
export async function issueToken(db: Database, input: IssueTokenInput) {
  const minted = mintToken();
  const [row] = await db
    .insert(apiTokens)
    .values({
      id: newId(),
      kind: input.kind,
      name: input.name,
      tokenHash: minted.hash,
      prefix: minted.prefix,
      projectId: input.projectId ?? null,
      agentId: input.agentId ?? null,
      userId: input.userId ?? null,
      createdBy: input.createdBy,
      createdAt: now(),
      expiresAt: input.expiresAt ?? null,
    })
    .returning();

  return { token: row, secret: minted.secret };
}

/** Reads the secret out of an Authorization header, with a distinct
 * message for each way it can be wrong. */
export function bearerSecret(header: string | null): string {
  if (!header) {
    throw unauthenticated(
      "Missing Authorization header; send 'Authorization: Bearer flt_...'",
    );
  }
  const [scheme, secret, extra] = header.trim().split(/\s+/);
  if (scheme.toLowerCase() !== "bearer" || !secret || extra) {
    throw unauthenticated(
      "Authorization header must use the Bearer scheme: 'Bearer flt_...'",
    );
  }
  if (!secret.startsWith(TOKEN_PREFIX)) {
    throw unauthenticated("Malformed token: Flotilla tokens start with flt_");
  }

  return secret;
}

async function findLiveToken(db: Database, secret: string) {
  const [token] = await db
    .select()
    .from(apiTokens)
    .where(eq(apiTokens.tokenHash, hashToken(secret)))
    .limit(1);
  if (!token) throw unauthenticated("Unknown token");
  if (token.revokedAt) {
    throw forbidden(`Token ${token.prefix}… was revoked`, {
      revokedAt: token.revokedAt.toISOString(),
    });
  }
  const at = now();
  if (token.expiresAt && token.expiresAt <= at) {
    throw unauthenticated(
      `Token ${token.prefix}… expired at ${token.expiresAt.toISOString()}`,
    );
  }
  if (
    !token.lastUsedAt ||
    at.getTime() - token.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS
  ) {
    await db
      .update(apiTokens)
      .set({ lastUsedAt: at })
      .where(eq(apiTokens.id, token.id));
  }

  return token;
}

/** Resolves an agent token to the agent it speaks for. */
export async function authenticateAgent(
  db: Database,
  header: string | null,
): Promise<Extract<Actor, { kind: "agent" }>> {
  const token = await findLiveToken(db, bearerSecret(header));
  if (token.kind !== "agent" || !token.agentId || !token.projectId) {
    throw forbidden(
      "This is a personal access token; the agent API needs an agent token",
    );
  }
  const [agent] = await db
    .select()
    .from(agents)
    .where(eq(agents.id, token.agentId))
    .limit(1);
  if (!agent) throw unauthenticated("The token's agent no longer exists");
  await touchAgentPresence(db, agent.id, now());

  return {
    kind: "agent",
    agentId: agent.id,
    agentName: agent.name,
    projectId: agent.projectId,
    tokenId: token.id,
  };
}

/** Resolves a personal access token to the person it belongs to. */
export async function authenticatePerson(
  db: Database,
  header: string | null,
): Promise<Extract<Actor, { kind: "user" }>> {
  const token = await findLiveToken(db, bearerSecret(header));
  if (token.kind !== "personal" || !token.userId) {
    throw forbidden(
      "This is an agent token; the read API needs a personal access token",
    );
  }
  const [person] = await db
    .select()
    .from(user)
    .where(eq(user.id, token.userId))
    .limit(1);
  if (!person) throw unauthenticated("The token's user no longer exists");

  return {
    kind: "user",
    userId: person.id,
    email: person.email,
    instanceRole: person.role as Role,
    via: "token",
  };
}
