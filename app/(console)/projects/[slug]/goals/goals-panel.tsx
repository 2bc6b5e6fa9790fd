"use client";

import Link from "next/link";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { FormEvent } from "react";
import { fieldErrors, formError } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import { dateOnly, goalBadge, GoalProgress, spendText } from "./goal-display";
import { GoalFields, readGoalFields } from "./goal-fields";
import { statusLabels, type TaskStatusName } from "./ui";

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
        ...readGoalFields(form),
        draft: form.get("draft") === "on",
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
                <th>Priority</th>
                <th>Owner</th>
                <th>Due</th>
                <th>Progress</th>
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
                  <td>{goal.priority}</td>
                  <td>
                    {goal.owner?.name ?? <span className="muted">none</span>}
                  </td>
                  <td style={{ whiteSpace: "nowrap" }}>
                    {dateOnly(goal.dueAt) || (
                      <span className="muted">none</span>
                    )}
                  </td>
                  <td>
                    <GoalProgress title={goal.title} progress={goal.progress} />
                  </td>
                  <td>{countsText(goal.taskCounts)}</td>
                  <td>
                    <div className="row">
                      <span>{spendText(goal)}</span>
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
            <GoalFields project={props.project} errors={errors} />
            <label style={{ flexDirection: "row", alignItems: "center" }}>
              <input type="checkbox" name="draft" />
              Save as a draft (agents do not claim its tasks until it is made
              active)
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
