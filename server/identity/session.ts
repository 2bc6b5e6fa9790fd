import type { Actor, Role } from "./actor";
import { getAuth } from "./auth";

/** The signed-in person behind a console request, or null. */
export async function sessionActor(
  headers: Headers,
): Promise<Extract<Actor, { kind: "user" }> | null> {
  const auth = await getAuth();
  const current = await auth.api.getSession({ headers });
  if (!current) return null;

  return {
    kind: "user",
    userId: current.user.id,
    email: current.user.email,
    instanceRole: ((current.user as { role?: string }).role ??
      "viewer") as Role,
    via: "session",
  };
}
