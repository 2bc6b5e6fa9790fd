"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { authClient } from "./auth-client";

export function SignOutButton() {
  const router = useRouter();
  const [busy, setBusy] = useState(false);

  async function signOut() {
    setBusy(true);
    await authClient.signOut();
    router.push("/sign-in");
    router.refresh();
  }

  return (
    <button
      type="button"
      className="secondary"
      style={{ margin: "0.4rem 0.6rem" }}
      onClick={signOut}
      disabled={busy}
    >
      Sign out
    </button>
  );
}
