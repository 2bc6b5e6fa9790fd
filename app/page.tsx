import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { connection } from "next/server";
import { getDatabase } from "@/db/runtime";
import { listProjects } from "@/server/identity/projects";
import { sessionActor } from "@/server/identity/session";
import { needsSetup } from "@/server/identity/users";

// The front door: a fresh install goes to setup, a visitor to sign-in,
// a signed-in person with one project to its home page (what needs them
// now), anyone else to the project list.
export default async function Home() {
  await connection();
  const { db } = await getDatabase();
  if (await needsSetup(db)) redirect("/setup");
  const actor = await sessionActor(await headers());
  if (!actor) redirect("/sign-in");
  const projects = await listProjects(db, actor);
  if (projects.length === 1) redirect(`/projects/${projects[0].slug}`);
  redirect("/projects");
}
