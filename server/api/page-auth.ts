import { headers } from "next/headers";
import { notFound, redirect } from "next/navigation";
import { getDatabase } from "@/db/runtime";
import { DomainError } from "@/server/errors";
import { requireProjectRole } from "@/server/identity/access";
import type { Role } from "@/server/identity/actor";
import { sessionActor } from "@/server/identity/session";

// Server components call these to learn who is signed in; a visitor who is
// not is sent to the sign-in page.

export async function requirePageActor() {
  const actor = await sessionActor(await headers());
  if (!actor) redirect("/sign-in");

  return actor;
}

export async function requirePageProject(slug: string, role: Role = "viewer") {
  const actor = await requirePageActor();
  const { db } = await getDatabase();
  const access = await orNotFound(requireProjectRole(db, actor, slug, role));

  return { actor, db, ...access };
}

/** What a page reads, or the not-found page when the thing it names (a
 * project, session, goal, task, plan or document) does not exist or its
 * id is malformed: a 404, not the error page. */
export async function orNotFound<T>(reading: Promise<T>): Promise<T> {
  try {
    return await reading;
  } catch (error) {
    if (
      error instanceof DomainError &&
      (error.code === "not_found" || error.code === "invalid_input")
    ) {
      notFound();
    }
    throw error;
  }
}
