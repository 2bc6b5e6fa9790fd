import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { connection } from "next/server";
import { getDatabase } from "@/db/runtime";
import { sessionActor } from "@/server/identity/session";
import { needsSetup } from "@/server/identity/users";

// The front door: a fresh install goes to setup, a visitor to sign-in,
// a signed-in person to their projects.
export default async function Home() {
  await connection();
  const { db } = await getDatabase();
  if (await needsSetup(db)) redirect("/setup");
  if (!(await sessionActor(await headers()))) redirect("/sign-in");
  redirect("/projects");
}
