import { redirect } from "next/navigation";
import { connection } from "next/server";
import { getDatabase } from "@/db/runtime";
import { needsSetup } from "@/server/identity/users";
import { SetupForm } from "./setup-form";

// Shown only on a fresh install; once any user exists it is gone.
export default async function SetupPage() {
  await connection();
  const { db } = await getDatabase();
  if (!(await needsSetup(db))) redirect("/sign-in");

  return (
    <main className="center-card">
      <div className="panel">
        <h1>Welcome to Flotilla</h1>
        <p className="muted">
          Create the first admin account. This page disappears once it exists.
        </p>
        <SetupForm />
      </div>
    </main>
  );
}
