// Who is acting. Every domain function receives one of these explicitly.

export const roles = ["viewer", "operator", "admin"] as const;
export type Role = (typeof roles)[number];

export type Actor =
  | {
      kind: "user";
      userId: string;
      email: string;
      /** The user's instance-wide role; a project membership may differ. */
      instanceRole: Role;
      via: "session" | "token";
    }
  | {
      kind: "agent";
      agentId: string;
      agentName: string;
      projectId: string;
      tokenId: string;
      /** The session the agent says it works in (X-Flotilla-Session), so
       * what it does through Flotilla lands in that session's trace. */
      sessionHint?: string;
    }
  | {
      /** The local `flotilla` CLI, which holds the database itself. */
      kind: "cli";
      label: string;
    };

export function roleAtLeast(role: Role, needed: Role): boolean {
  return roles.indexOf(role) >= roles.indexOf(needed);
}

export function actorLabel(actor: Actor): string {
  if (actor.kind === "user") return actor.email;
  if (actor.kind === "agent") return `agent:${actor.agentName}`;

  return actor.label;
}

export function actorId(actor: Actor): string {
  if (actor.kind === "user") return actor.userId;
  if (actor.kind === "agent") return actor.agentId;

  return actor.label;
}
