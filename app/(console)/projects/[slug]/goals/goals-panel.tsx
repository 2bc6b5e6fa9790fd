"use client";

import Link from "next/link";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { FormEvent } from "react";
import { fieldErrors, formError } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import { statusLabels, usd, usdField, type TaskStatusName } from "./ui";

function goalBadge(status: string): string {
  return `badge ${status === "active" ? "ok" : "muted"}`;
}

/** "2 ready, 1 claimed", leaving out empty statuses. */
function countsText(counts: Record<TaskStatusName, number>): string {
  const parts = (Object.keys(statusLabels) as TaskStatusName[])
    .filter((status) => counts[status] > 0)
    .map((s) => `${counts[s]} ${statusLabels[s].toLowerCase()}`);

  return parts.length > 0 ? parts.join(", ") : "none";
}

export function GoalsPanel(props: { project: string; canOperate: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const input = { project: props.project };
  // Spend arrives with agents' events, so the list refreshes on its own.
  const goals = useQuery(
    trpc.orchestration.goals.list.queryOptions(input, {
      refetchInterval: 5_000,
    }),
  );
  const create = useMutation(
    trpc.orchestration.goals.create.mutationOptions({
      onSuccess: () =>
        queryClient.invalidateQueries({
          queryKey: trpc.orchestration.goals.list.queryKey(input),
        }),
    }),
  );
  const errors = fieldErrors(create.error);
  const problem = formError(create.error);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    create.mutate(
      {
        project: props.project,
        title: String(form.get("title") ?? ""),
        description: String(form.get("description") ?? ""),
        budgetUsd: usdField(form.get("budgetUsd")),
      },
      { onSuccess: () => formElement.reset() },
    );
  }

  return (
    <>
      <section className="panel" aria-labelledby="goals-heading">
        <h2 id="goals-heading">All goals</h2>
        {goals.isPending && <p className="muted">Loading goals…</p>}
        {goals.error && <p className="error">{goals.error.message}</p>}
        {goals.data?.length === 0 && (
          <p className="muted">No goals yet. Create the first one below.</p>
        )}
        {goals.data && goals.data.length > 0 && (
          <table>
            <thead>
              <tr>
                <th>Goal</th>
                <th>Status</th>
                <th>Tasks</th>
                <th>Spend / budget</th>
              </tr>
            </thead>
            <tbody>
              {goals.data.map((goal) => (
                <tr key={goal.id} aria-label={`Goal ${goal.title}`}>
                  <td>
                    <Link href={`/projects/${props.project}/goals/${goal.id}`}>
                      {goal.title}
                    </Link>
                  </td>
                  <td>
                    <span className={goalBadge(goal.status)}>
                      {goal.status}
                    </span>
                  </td>
                  <td>{countsText(goal.taskCounts)}</td>
                  <td>
                    <div className="row">
                      <span>
                        {usd(goal.spendUsd)}
                        {goal.budgetUsd === null
                          ? " (no budget)"
                          : ` of ${usd(goal.budgetUsd)}`}
                      </span>
                      {goal.overBudget && (
                        <span className="badge danger">Over budget</span>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      {props.canOperate && (
        <section className="panel" aria-labelledby="new-goal-heading">
          <h2 id="new-goal-heading">New goal</h2>
          <form className="stack" onSubmit={submit} noValidate>
            <label>
              Title
              <input name="title" required aria-invalid={!!errors.title} />
              {errors.title && (
                <span className="field-error">{errors.title}</span>
              )}
            </label>
            <label>
              Description
              <textarea name="description" rows={3} />
              {errors.description && (
                <span className="field-error">{errors.description}</span>
              )}
            </label>
            <label>
              Budget in USD (optional)
              <input
                name="budgetUsd"
                inputMode="decimal"
                placeholder="e.g. 25"
                aria-invalid={!!errors.budgetUsd}
              />
              {errors.budgetUsd && (
                <span className="field-error">{errors.budgetUsd}</span>
              )}
            </label>
            {problem && <p className="error">{problem}</p>}
            <div>
              <button type="submit" disabled={create.isPending}>
                {create.isPending ? "Creating…" : "Create goal"}
              </button>
            </div>
          </form>
        </section>
      )}
    </>
  );
}
