"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { FormEvent } from "react";
import { fieldErrors, formError } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import { effectiveDay, usdPerMillion } from "./price-format";

// The project's own prices: they come before the built-in table for the
// models their pattern matches, from their effective date on. Everyone in
// the project reads them; an admin adds and deletes them.

const optionalRates = [
  ["cacheRead", "Cache read"],
  ["cacheWrite5m", "Cache write, 5 min"],
  ["cacheWrite1h", "Cache write, 1 h"],
] as const;

export function OverridesPanel(props: { project: string; canEdit: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const input = { project: props.project };
  const prices = useQuery(trpc.observability.prices.list.queryOptions(input));
  // A new or deleted price changes which unpriced models can be priced.
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({
        queryKey: trpc.observability.prices.list.queryKey(input),
      }),
      queryClient.invalidateQueries({
        queryKey: trpc.observability.prices.unpriced.queryKey(input),
      }),
    ]);
  const create = useMutation(
    trpc.observability.prices.createOverride.mutationOptions({
      onSuccess: refresh,
    }),
  );
  const remove = useMutation(
    trpc.observability.prices.deleteOverride.mutationOptions({
      onSuccess: refresh,
    }),
  );
  const errors = fieldErrors(create.error);
  const overrides = prices.data?.overrides;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    // An empty required rate is sent as NaN, so the field says why.
    const optional = (name: string) =>
      text(name) === "" ? undefined : Number(text(name));
    create.mutate(
      {
        ...input,
        pattern: text("pattern"),
        label: text("label") || undefined,
        input: text("input") === "" ? Number.NaN : Number(text("input")),
        output: text("output") === "" ? Number.NaN : Number(text("output")),
        cacheRead: optional("cacheRead"),
        cacheWrite5m: optional("cacheWrite5m"),
        cacheWrite1h: optional("cacheWrite1h"),
        effectiveFrom: text("effectiveFrom") || undefined,
      },
      { onSuccess: () => formElement.reset() },
    );
  }

  return (
    <section className="panel" aria-labelledby="overrides-heading">
      <h2 id="overrides-heading">Project prices</h2>
      <p className="muted">
        USD per million tokens for the models a pattern matches (* stands for
        any run of characters), from the effective date on. They come before the
        built-in prices; events stored earlier keep their cost, and unpriced
        ones can be repriced above.
      </p>
      {prices.isPending && <p className="muted">Loading project prices…</p>}
      {prices.error && <p className="error">{prices.error.message}</p>}
      {overrides?.length === 0 && (
        <p className="muted">No project prices: the built-in table applies.</p>
      )}
      {overrides && overrides.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Pattern</th>
              <th>Input</th>
              <th>Output</th>
              <th>Cache read</th>
              <th>Cache write 5 min</th>
              <th>Cache write 1 h</th>
              <th>Effective from</th>
              <th>Added by</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {overrides.map((override) => (
              <tr key={override.id} data-override={override.id}>
                <td>
                  <code>{override.pattern}</code>
                  {override.label && (
                    <div className="muted">{override.label}</div>
                  )}
                </td>
                <td>{usdPerMillion(override.input)}</td>
                <td>{usdPerMillion(override.output)}</td>
                <td>{usdPerMillion(override.cacheRead)}</td>
                <td>{usdPerMillion(override.cacheWrite5m)}</td>
                <td>{usdPerMillion(override.cacheWrite1h)}</td>
                <td>{effectiveDay(override.effectiveFrom)}</td>
                <td>{override.createdBy ?? "?"}</td>
                <td>
                  {props.canEdit && (
                    <button
                      type="button"
                      className="secondary"
                      aria-label={`Delete price for ${override.pattern} from ${effectiveDay(override.effectiveFrom)}`}
                      disabled={remove.isPending}
                      onClick={() =>
                        remove.mutate({ ...input, override: override.id })
                      }
                    >
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {remove.error && (
        <p className="error" role="alert">
          {remove.error.message}
        </p>
      )}
      {!props.canEdit && (
        <p className="muted">Only a project admin can change prices.</p>
      )}
      {props.canEdit && (
        <form className="stack" onSubmit={submit} style={{ marginTop: "1rem" }}>
          <h3>Add a project price</h3>
          <label>
            Model pattern
            <input name="pattern" required placeholder="llama-3.1-*" />
            {errors.pattern && (
              <span className="field-error">{errors.pattern}</span>
            )}
          </label>
          <label>
            Label (optional)
            <input name="label" placeholder="Self-hosted Llama" />
            {errors.label && (
              <span className="field-error">{errors.label}</span>
            )}
          </label>
          <label>
            Input, USD per million tokens
            <input
              name="input"
              inputMode="decimal"
              required
              placeholder="0.6"
            />
            {errors.input && (
              <span className="field-error">{errors.input}</span>
            )}
          </label>
          <label>
            Output, USD per million tokens
            <input
              name="output"
              inputMode="decimal"
              required
              placeholder="0.6"
            />
            {errors.output && (
              <span className="field-error">{errors.output}</span>
            )}
          </label>
          {optionalRates.map(([name, label]) => (
            <label key={name}>
              {label}, USD per million tokens (empty: the input rate)
              <input name={name} inputMode="decimal" />
              {errors[name] && (
                <span className="field-error">{errors[name]}</span>
              )}
            </label>
          ))}
          <label>
            Effective from (UTC)
            <input name="effectiveFrom" type="date" />
            <span className="muted" style={{ fontWeight: 400 }}>
              Empty: the price holds for every event, earlier ones too, so
              Reprice reaches all of the model&apos;s unpriced events. A date (a
              price change) applies from that day on.
            </span>
            {errors.effectiveFrom && (
              <span className="field-error">{errors.effectiveFrom}</span>
            )}
          </label>
          {formError(create.error) && (
            <p className="error" role="alert">
              {formError(create.error)}
            </p>
          )}
          <button type="submit" disabled={create.isPending}>
            Add price
          </button>
        </form>
      )}
    </section>
  );
}
