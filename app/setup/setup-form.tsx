"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { authClient } from "@/components/auth-client";
import { fieldErrors, formError } from "@/components/forms";
import { useTRPC } from "@/components/trpc";

export function SetupForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const [signInError, setSignInError] = useState<string | null>(null);
  // Stays true from the first click until the new admin is signed in, so a
  // second click cannot try to create the account again.
  const [busy, setBusy] = useState(false);
  const setup = useMutation(trpc.identity.setup.mutationOptions());
  const errors = fieldErrors(setup.error);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    const form = new FormData(event.currentTarget);
    const email = String(form.get("email"));
    const password = String(form.get("password"));
    const name = String(form.get("name") ?? "");
    try {
      await setup.mutateAsync({ email, password, name });
    } catch {
      setBusy(false);

      return;
    }
    // The new admin is signed in straight away.
    const signedIn = await authClient.signIn.email({ email, password });
    if (signedIn.error) {
      setBusy(false);
      setSignInError(signedIn.error.message ?? "Sign-in failed");
      router.push("/sign-in");

      return;
    }
    router.push("/projects");
    router.refresh();
  }

  return (
    <form
      className="stack"
      onSubmit={(event) => void submit(event).catch(() => {})}
    >
      <label>
        Name
        <input name="name" autoComplete="name" />
      </label>
      <label>
        Email
        <input name="email" type="email" required autoComplete="email" />
        {errors.email && <span className="field-error">{errors.email}</span>}
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          required
          minLength={8}
          autoComplete="new-password"
          aria-describedby="password-hint"
        />
        <span id="password-hint" className="muted">
          At least 8 characters.
        </span>
        {errors.password && (
          <span className="field-error">{errors.password}</span>
        )}
      </label>
      {(formError(setup.error) ?? signInError) && (
        <p className="error" role="alert">
          {formError(setup.error) ?? signInError}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {busy ? "Creating…" : "Create admin"}
      </button>
    </form>
  );
}
