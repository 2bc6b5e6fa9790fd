"use client";

import { TokenFormFields, TokensTable } from "@/components/TokensTable";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { fieldErrors, formError } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import { SecretNotice } from "@/components/auth-secret-notice";

type Role = "viewer" | "operator" | "admin";

export function TokensPanel(props: { project: string; role: Role }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const input = { project: props.project };
  const tokens = useQuery(trpc.identity.tokens.list.queryOptions(input));
  const agents = useQuery(trpc.identity.agents.list.queryOptions(input));
  const [secret, setSecret] = useState<{ name: string; value: string } | null>(
    null,
  );
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({
        queryKey: trpc.identity.tokens.list.queryKey(input),
      }),
      queryClient.invalidateQueries({
        queryKey: trpc.identity.agents.list.queryKey(input),
      }),
    ]);
  const create = useMutation(
    trpc.identity.tokens.create.mutationOptions({
      onSuccess: async (made) => {
        setSecret({ name: made.agentName, value: made.secret });
        await refresh();
      },
    }),
  );
  const revoke = useMutation(
    trpc.identity.tokens.revoke.mutationOptions({ onSuccess: refresh }),
  );
  const errors = fieldErrors(create.error);
  const isAdmin = props.role === "admin";

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const days = String(form.get("expiresInDays") ?? "");
    const name = String(form.get("name") ?? "").trim();
    create.mutate({
      project: props.project,
      agent: String(form.get("agent")),
      name: name || undefined,
      expiresInDays: days ? Number(days) : undefined,
    });
  }

  return (
    <section className="panel" aria-labelledby="tokens-heading">
      <h2 id="tokens-heading">Tokens</h2>
      {secret && (
        <SecretNotice
          title={`New token for agent ${secret.name}`}
          secret={secret.value}
          onDismiss={() => setSecret(null)}
        />
      )}
      {tokens.isPending && <p className="muted">Loading tokens…</p>}
      {tokens.error && <p className="error">{tokens.error.message}</p>}
      {tokens.data?.length === 0 && <p className="muted">No tokens yet.</p>}
      {tokens.data && tokens.data.length > 0 && (
        <TokensTable
          tokens={tokens.data}
          showAgent
          canRevoke={isAdmin}
          revoking={revoke.isPending}
          onRevoke={(tokenId) => revoke.mutate({ ...input, tokenId })}
        />
      )}
      {revoke.error && (
        <p className="error" role="alert">
          {revoke.error.message}
        </p>
      )}
      {isAdmin && agents.data && agents.data.length > 0 && (
        <form className="stack" onSubmit={submit} style={{ marginTop: "1rem" }}>
          <h3>Create token</h3>
          <label>
            Agent
            <select name="agent">
              {agents.data.map((agent) => (
                <option key={agent.id} value={agent.id}>
                  {agent.name}
                </option>
              ))}
            </select>
          </label>
          <TokenFormFields
            namePlaceholder="ci runner"
            errors={errors}
            problem={formError(create.error)}
            pending={create.isPending}
          />
        </form>
      )}
    </section>
  );
}
