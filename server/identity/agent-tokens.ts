import { and, desc, eq } from "drizzle-orm";
import { z } from "zod";
import { type Database, inTransaction } from "@/db/client";
import { agents, apiTokens } from "@/db/schema";
import { actorLabel, type Actor } from "./actor";
import { requireProjectRole } from "./access";
import { expiryFromDays, findAgent } from "./agents";
import { recordAudit } from "./audit";
import { parseInput } from "@/server/input";
import { expiresInDaysSchema, tokenNameSchema } from "./schemas";
import { publicToken, revokeScopedToken } from "./token-view";
import { issueToken } from "./tokens";

// An agent's bearer tokens: made and revoked by project admins. A revoked
// token is refused by the agent API with 403.

export const createAgentTokenInput = z.object({
  project: z.string().min(1),
  agent: z.string().trim().min(1, "Agent is required"),
  name: tokenNameSchema.optional(),
  expiresInDays: expiresInDaysSchema.optional(),
});

/** Issues another token for an agent; the secret is shown only now. */
export async function createAgentToken(
  db: Database,
  actor: Actor,
  input: z.input<typeof createAgentTokenInput>,
) {
  const values = parseInput(createAgentTokenInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "admin",
  );
  const agent = await findAgent(db, project, values.agent);

  return inTransaction(db, async (tx) => {
    const { token, secret } = await issueToken(tx, {
      kind: "agent",
      name: values.name ?? `${agent.name} token`,
      projectId: project.id,
      agentId: agent.id,
      createdBy: actorLabel(actor),
      expiresAt: expiryFromDays(values.expiresInDays),
    });
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "token.create",
      targetType: "token",
      targetId: token.id,
      details: {
        agent: agent.name,
        prefix: token.prefix,
        expiresAt: token.expiresAt?.toISOString() ?? null,
      },
    });

    return { token: publicToken(token), agentName: agent.name, secret };
  });
}

export const revokeTokenInput = z.object({
  project: z.string().min(1),
  tokenId: z.uuid("Token id must be a UUID"),
});

/** Revokes an agent token of the project; revoking twice changes nothing
 * and is not audited twice. */
export async function revokeToken(
  db: Database,
  actor: Actor,
  input: z.input<typeof revokeTokenInput>,
) {
  const values = parseInput(revokeTokenInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "admin",
  );

  return revokeScopedToken(
    db,
    actor,
    values.tokenId,
    and(eq(apiTokens.projectId, project.id), eq(apiTokens.kind, "agent")),
    { action: "token.revoke", projectId: project.id },
  );
}

/** The project's agent tokens, newest first, with the agent's name. */
export async function listTokens(
  db: Database,
  actor: Actor,
  input: { project: string },
) {
  const { project } = await requireProjectRole(
    db,
    actor,
    input.project,
    "viewer",
  );
  const rows = await db
    .select({ token: apiTokens, agentName: agents.name })
    .from(apiTokens)
    .innerJoin(agents, eq(agents.id, apiTokens.agentId))
    .where(
      and(eq(apiTokens.projectId, project.id), eq(apiTokens.kind, "agent")),
    )
    .orderBy(desc(apiTokens.createdAt));

  return rows.map((row) => ({
    ...publicToken(row.token),
    agentName: row.agentName,
  }));
}
