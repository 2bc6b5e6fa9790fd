"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState, type FormEvent } from "react";
import { fieldErrors, formError } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import { ScopeFields, type Scope } from "./scope-fields";
import { formatUsd } from "@/components/charts/format";

// Period budgets: each with its spend in the current period against its
// limit, its state and when it resets; admins add and remove them. Every
// budget that applies must hold, so a task is refused when the project's,
// its goal's or its agent's budget is spent.

type Role = "viewer" | "operator" | "admin";
type Unit = "usd" | "tokens";
type Period = "day" | "week" | "month" | "total";

const stateBadge: Record<string, string> = {
  ok: "badge ok",
  soft: "badge warn",
  exhausted: "badge danger",
};
const stateText: Record<string, string> = {
  ok: "within budget",
  soft: "past alert threshold",
  exhausted: "spent",
};
const barColour: Record<string, string> = {
  ok: "var(--ok)",
  soft: "var(--warn)",
  exhausted: "var(--danger)",
};

function amount(unit: string, value: number): string {
  if (unit === "usd") return formatUsd(value);

  return `${Math.round(value).toLocaleString("en-US")} tokens`;
}

function PercentBar(props: { percent: number; state: string; label: string }) {
  const shown = Math.min(100, Math.max(0, props.percent));

  return (
    <div
      role="meter"
      aria-label={props.label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(props.percent)}
      style={{
        width: "8rem",
        height: "0.5rem",
        borderRadius: "999px",
        background: "var(--border)",
        overflow: "hidden",
      }}
    >
      <div
        style={{
          width: `${shown}%`,
          height: "100%",
          background: barColour[props.state] ?? "var(--accent)",
        }}
      />
    </div>
  );
}

export function BudgetsPanel(props: { project: string; role: Role }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const input = { project: props.project };
  const isAdmin = props.role === "admin";
  const budgets = useQuery(
    trpc.guardrails.budgets.list.queryOptions(input, {
      refetchInterval: 15_000,
    }),
  );
  const [scope, setScope] = useState<Scope>("project");
  const [unit, setUnit] = useState<Unit>("usd");
  const refresh = () =>
    queryClient.invalidateQueries({
      queryKey: trpc.guardrails.budgets.list.queryKey(input),
    });
  const add = useMutation(
    trpc.guardrails.budgets.add.mutationOptions({ onSuccess: refresh }),
  );
  const remove = useMutation(
    trpc.guardrails.budgets.remove.mutationOptions({ onSuccess: refresh }),
  );
  const errors = fieldErrors(add.error);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    const soft = text("softPercent");
    add.mutate(
      {
        ...input,
        scope,
        goal: scope === "goal" ? text("goal") : undefined,
        agent: scope === "agent" ? text("agent") : undefined,
        unit,
        period: text("period") as Period,
        limit: text("limit") === "" ? Number.NaN : Number(text("limit")),
        softPercent: soft === "" ? null : Number(soft),
      },
      { onSuccess: () => formElement.reset() },
    );
  }

  const data = budgets.data;

  return (
    <section className="panel" aria-labelledby="budgets-heading">
      <h2 id="budgets-heading">Budgets</h2>
      <p className="muted">
        Spend counts the cost (USD) or the tokens of the events in a budget's
        scope during its period. Every budget that applies must hold: a claim or
        tool call is refused when the project's, the goal's or the agent's
        budget is spent, and the refusal names it. Claims reserve a task's
        estimate until it ends.
        {data && (
          <>
            {" "}
            Days, weeks (from Monday) and months follow the project's time zone,{" "}
            <strong>{data.timeZone}</strong> (
            <Link href={`/projects/${props.project}/settings`}>settings</Link>
            ).
          </>
        )}
      </p>
      {budgets.isPending && <p className="muted">Loading budgets…</p>}
      {budgets.error && <p className="error">{budgets.error.message}</p>}
      {data?.budgets.length === 0 && (
        <p className="muted">No budgets: spend is not limited.</p>
      )}
      {data && data.budgets.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Budget</th>
              <th>Spend / limit</th>
              <th>Used</th>
              <th>State</th>
              <th>Resets</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.budgets.map((budget) => (
              <tr key={budget.id} data-budget={budget.id}>
                <td>
                  {budget.name}
                  {budget.softPercent !== null && (
                    <span className="muted">
                      {" "}
                      · alert at {budget.softPercent}%
                    </span>
                  )}
                </td>
                <td>
                  {amount(budget.unit, budget.spend)} /{" "}
                  {amount(budget.unit, budget.limit)}
                  {budget.unit === "usd" && budget.reserved > 0 && (
                    <span className="muted">
                      {" "}
                      ({amount("usd", budget.reserved)} reserved)
                    </span>
                  )}
                </td>
                <td>
                  <div className="row" style={{ gap: "0.5rem" }}>
                    <PercentBar
                      percent={budget.percent}
                      state={budget.state}
                      label={`${budget.name} used`}
                    />
                    <span>{Math.round(budget.percent)}%</span>
                  </div>
                </td>
                <td>
                  <span className={stateBadge[budget.state] ?? "badge"}>
                    {stateText[budget.state] ?? budget.state}
                  </span>
                </td>
                <td>{budget.resets}</td>
                <td>
                  {budget.source === "goal" ? (
                    <Link
                      className="muted"
                      href={`/projects/${props.project}/goals/${budget.goalId}`}
                    >
                      set on the goal
                    </Link>
                  ) : (
                    isAdmin && (
                      <button
                        type="button"
                        className="secondary"
                        aria-label={`Remove ${budget.name}`}
                        disabled={remove.isPending}
                        onClick={() =>
                          remove.mutate({ ...input, budget: budget.id })
                        }
                      >
                        Remove
                      </button>
                    )
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
      {isAdmin && (
        <form className="stack" onSubmit={submit} style={{ marginTop: "1rem" }}>
          <h3>Add a budget</h3>
          <ScopeFields
            project={props.project}
            scope={scope}
            setScope={setScope}
            errors={errors}
          />
          <label>
            Counts
            <select
              name="unit"
              value={unit}
              onChange={(event) => setUnit(event.target.value as Unit)}
            >
              <option value="usd">US dollars</option>
              <option value="tokens">Tokens</option>
            </select>
          </label>
          <label>
            Period
            <select name="period" defaultValue="day">
              <option value="day">Day</option>
              <option value="week">Week (from Monday)</option>
              <option value="month">Month</option>
              <option value="total">Total (never resets)</option>
            </select>
          </label>
          <label>
            {unit === "usd" ? "Limit (USD)" : "Limit (tokens)"}
            <input
              name="limit"
              type="number"
              min={0}
              step={unit === "usd" ? 0.01 : 1}
              required
              placeholder={unit === "usd" ? "25" : "5000000"}
            />
            {errors.limit && (
              <span className="field-error">{errors.limit}</span>
            )}
          </label>
          <label>
            Alert at (% of the limit, optional)
            <input
              name="softPercent"
              type="number"
              min={1}
              max={99}
              step={1}
              placeholder="80"
            />
            {errors.softPercent && (
              <span className="field-error">{errors.softPercent}</span>
            )}
          </label>
          {formError(add.error) && (
            <p className="error" role="alert">
              {formError(add.error)}
            </p>
          )}
          <button type="submit" disabled={add.isPending}>
            Add budget
          </button>
        </form>
      )}
    </section>
  );
}
