import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { connection } from "next/server";
import { getDatabase } from "@/db/runtime";
import { sessionActor } from "@/server/identity/session";
import { needsSetup } from "@/server/identity/users";
import { SignInForm } from "./sign-in-form";

export default async function SignInPage() {
  await connection();
  const { db } = await getDatabase();
  if (await needsSetup(db)) redirect("/setup");
  if (await sessionActor(await headers())) redirect("/projects");

  return (
    <main className="center-card">
      <div className="panel">
        <h1>Sign in to Flotilla</h1>
        <SignInForm />
      </div>
    </main>
  );
}
