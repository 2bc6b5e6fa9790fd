"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { formatTime } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import { tokens } from "./price-format";

// Models whose events carry no cost because no price knew them when they
// arrived. Once a project price (or a newer built-in table) covers them,
// an admin reprices their events at the price in force at each event's
// time; spend, session totals and rollups follow.

export function UnpricedPanel(props: { project: string; canEdit: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const input = { project: props.project };
  const unpriced = useQuery(
    trpc.observability.prices.unpriced.queryOptions(input),
  );
  const [outcome, setOutcome] = useState<string | null>(null);
  const reprice = useMutation(
    trpc.observability.prices.reprice.mutationOptions({
      onSuccess: async (result) => {
        const events = result.repriced === 1 ? "event" : "events";
        setOutcome(
          `Repriced ${result.repriced} ${events} ($${result.costUsd}); ` +
            `${result.stillUnpriced} still unpriced.`,
        );
        await Promise.all([
          queryClient.invalidateQueries({
            queryKey: trpc.observability.prices.unpriced.queryKey(input),
          }),
          queryClient.invalidateQueries({
            queryKey: trpc.observability.spendOverview.queryKey(),
          }),
        ]);
      },
    }),
  );
  const models = unpriced.data;
  const anyPriceable = models?.some((model) => model.priceable) ?? false;

  function run(model?: string) {
    setOutcome(null);
    reprice.mutate({ ...input, model });
  }

  return (
    <section className="panel" aria-labelledby="unpriced-heading">
      <h2 id="unpriced-heading">Unpriced models</h2>
      <p className="muted">
        Events with tokens whose model no price covered when they arrived. They
        count in spend as unpriced, never as $0.
      </p>
      {unpriced.isPending && <p className="muted">Loading unpriced models…</p>}
      {unpriced.error && <p className="error">{unpriced.error.message}</p>}
      {models?.length === 0 && (
        <p className="muted">Every event with tokens has a price.</p>
      )}
      {models && models.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Model</th>
              <th>Events</th>
              <th>Input</th>
              <th>Output</th>
              <th>Cache read</th>
              <th>Cache write</th>
              <th>First seen</th>
              <th>Last seen</th>
              <th>Price now</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {models.map((model) => (
              <tr key={model.model ?? ""} data-model={model.model ?? ""}>
                <td>
                  {model.model ? (
                    <code>{model.model}</code>
                  ) : (
                    <span className="muted">no model named</span>
                  )}
                </td>
                <td>{tokens(model.events)}</td>
                <td>{tokens(model.inputTokens)}</td>
                <td>{tokens(model.outputTokens)}</td>
                <td>{tokens(model.cacheReadTokens)}</td>
                <td>{tokens(model.cacheWriteTokens)}</td>
                <td>{formatTime(model.firstSeen)}</td>
                <td>{formatTime(model.lastSeen)}</td>
                <td>
                  {model.priceable ? (
                    <span className="badge ok">available</span>
                  ) : (
                    <span className="badge muted">none</span>
                  )}
                </td>
                <td>
                  {props.canEdit && model.model && model.priceable && (
                    <button
                      type="button"
                      className="secondary"
                      aria-label={`Reprice ${model.model}`}
                      disabled={reprice.isPending}
                      onClick={() => run(model.model ?? undefined)}
                    >
                      Reprice
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.canEdit && models && models.length > 0 && (
        <div className="row" style={{ marginTop: "0.75rem" }}>
          <button
            type="button"
            disabled={reprice.isPending || !anyPriceable}
            onClick={() => run()}
          >
            {reprice.isPending ? "Repricing…" : "Reprice all"}
          </button>
          {!anyPriceable && (
            <span className="muted">
              Add a project price below for a model, then reprice it.
            </span>
          )}
        </div>
      )}
      {outcome && (
        <p role="status" style={{ color: "var(--ok)" }}>
          {outcome}
        </p>
      )}
      {reprice.error && (
        <p className="error" role="alert">
          {reprice.error.message}
        </p>
      )}
    </section>
  );
}
