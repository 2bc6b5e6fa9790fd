import type { Actor, Role } from "./actor";
import type { PublicUser } from "./users";

// Helpers for the identity tests: actors for people the tests create.

export const cli: Actor = { kind: "cli", label: "cli:test" };

export function asUser(person: PublicUser, role: Role = person.role): Actor {
  return {
    kind: "user",
    userId: person.id,
    email: person.email,
    instanceRole: role,
    via: "session",
  };
}

let counter = 0;

/** A fresh, unique email per call so tests never collide. */
export function uniqueEmail(label = "person"): string {
  counter += 1;

  return `${label}-${Date.now().toString(36)}-${counter}@example.test`;
}
