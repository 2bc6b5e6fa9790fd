"use client";

import { TokenFormFields, TokensTable } from "@/components/TokensTable";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { fieldErrors, formError } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import { SecretNotice } from "@/components/auth-secret-notice";

export function PersonalTokensPanel() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tokens = useQuery(trpc.identity.personalTokens.list.queryOptions());
  const [secret, setSecret] = useState<string | null>(null);
  const refresh = () =>
    queryClient.invalidateQueries({
      queryKey: trpc.identity.personalTokens.list.queryKey(),
    });
  const create = useMutation(
    trpc.identity.personalTokens.create.mutationOptions({
      onSuccess: async (made) => {
        setSecret(made.secret);
        await refresh();
      },
    }),
  );
  const revoke = useMutation(
    trpc.identity.personalTokens.revoke.mutationOptions({
      onSuccess: refresh,
    }),
  );
  const errors = fieldErrors(create.error);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const days = String(form.get("expiresInDays") ?? "");
    const name = String(form.get("name") ?? "").trim();
    create.mutate(
      {
        name: name || undefined,
        expiresInDays: days ? Number(days) : undefined,
      },
      { onSuccess: () => formElement.reset() },
    );
  }

  return (
    <>
      {secret && (
        <SecretNotice
          title="Your new personal token"
          secret={secret}
          onDismiss={() => setSecret(null)}
        />
      )}
      <section className="panel" aria-label="Your tokens">
        {tokens.isPending && <p className="muted">Loading tokens…</p>}
        {tokens.error && <p className="error">{tokens.error.message}</p>}
        {tokens.data?.length === 0 && (
          <p className="muted">You have no personal tokens.</p>
        )}
        {tokens.data && tokens.data.length > 0 && (
          <TokensTable
            tokens={tokens.data}
            canRevoke
            revoking={revoke.isPending}
            onRevoke={(tokenId) => revoke.mutate({ tokenId })}
          />
        )}
      </section>
      <section className="panel">
        <h2>New personal token</h2>
        <form className="stack" onSubmit={submit}>
          <TokenFormFields
            namePlaceholder="spend report script"
            errors={errors}
            problem={formError(create.error)}
            pending={create.isPending}
          />
        </form>
      </section>
    </>
  );
}
