"use client";

import Link from "next/link";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { fieldErrors, formError, formatTime } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import { dateOnly, goalBadge, GoalProgress, tokensText } from "../goal-display";
import { GoalFields, readGoalFields } from "../goal-fields";
import { TaskActions } from "../task-actions";
import { GoalGraph } from "./goal-graph";
import {
  clock,
  planBadges,
  planStatusLabels,
  statusLabels,
  usd,
  usdField,
} from "../ui";
import type { GoalView } from "@/server/orchestration/views";

type Goal = GoalView;

interface Props {
  project: string;
  goalId: string;
  canOperate: boolean;
}

export function GoalDetail(props: Props) {
  const trpc = useTRPC();
  const goal = useQuery(
    trpc.orchestration.goals.get.queryOptions(
      { goalId: props.goalId },
      { refetchInterval: 2_000 },
    ),
  );
  const tasks = useQuery(
    trpc.orchestration.tasks.list.queryOptions(
      { project: props.project, goalId: props.goalId },
      { refetchInterval: 1_000 },
    ),
  );
  if (goal.error) return <p className="error">{goal.error.message}</p>;
  if (!goal.data) return <p className="muted">Loading goal…</p>;
  const g = goal.data;

  return (
    <>
      <p>
        <Link href={`/projects/${props.project}/goals`}>← Goals</Link>
      </p>
      <div className="row">
        <h1 style={{ margin: 0 }}>{g.title}</h1>
        <span className={goalBadge(g.status)}>{g.status}</span>
        {g.overBudget && <span className="badge danger">Over budget</span>}
      </div>
      {g.status === "draft" && (
        <p className="muted" role="note">
          This goal is a draft: agents do not claim its tasks until it is made
          active in the settings below.
        </p>
      )}
      {g.description && <p>{g.description}</p>}

      <section className="panel" aria-labelledby="outline-heading">
        <h2 id="outline-heading">Outline</h2>
        <dl className="details">
          <div>
            <dt>Owner</dt>
            <dd>{g.owner ? `${g.owner.name} (${g.owner.email})` : "none"}</dd>
          </div>
          <div>
            <dt>Priority</dt>
            <dd>{g.priority}</dd>
          </div>
          <div>
            <dt>Due</dt>
            <dd>{dateOnly(g.dueAt) || "no due date"}</dd>
          </div>
          <div>
            <dt>Progress</dt>
            <dd>
              <GoalProgress title={g.title} progress={g.progress} />
            </dd>
          </div>
          <div>
            <dt>Most tasks held at once</dt>
            <dd>{g.maxActiveTasks ?? "no limit"}</dd>
          </div>
        </dl>
        <Criteria goal={g} canOperate={props.canOperate} />
      </section>

      <section className="panel" aria-labelledby="spend-heading">
        <h2 id="spend-heading">Spend</h2>
        <p>
          Spent <strong>{usd(g.spendUsd)}</strong>
          {g.budgetUsd === null ? (
            <> with no budget set.</>
          ) : (
            <>
              {" "}
              of its <strong>{usd(g.budgetUsd)}</strong> budget.
            </>
          )}
        </p>
        <p>
          Tokens: <strong>{tokensText(g.spendTokens)}</strong>
          {g.budgetTokens === null
            ? " (no token budget)"
            : ` of ${tokensText(g.budgetTokens)}`}
          .
        </p>
        {g.overBudget && (
          <p className="error">
            The budget is spent: agents cannot claim this goal&apos;s tasks
            until the budget is raised.
          </p>
        )}
        <h3>Forecast</h3>
        <p aria-label="Forecast">{g.forecast.summary}</p>
        {g.forecast.enoughData && (
          <dl className="details">
            <div>
              <dt>Per day</dt>
              <dd>
                {usd(g.forecast.usdPerDay ?? 0)},{" "}
                {tokensText(g.forecast.tokensPerDay ?? 0)} tokens
              </dd>
            </div>
            <div>
              <dt>By the due date</dt>
              <dd>
                {g.forecast.projectedUsdAtDue === null
                  ? "no due date"
                  : `${usd(g.forecast.projectedUsdAtDue)}, ${tokensText(g.forecast.projectedTokensAtDue ?? 0)} tokens`}
              </dd>
            </div>
            <div>
              <dt>Budget lasts</dt>
              <dd>{budgetLasts(g.forecast)}</dd>
            </div>
          </dl>
        )}
      </section>

      <Plans project={props.project} goalId={g.id} />

      {props.canOperate && (
        <section className="panel" aria-labelledby="settings-heading">
          <h2 id="settings-heading">Goal settings</h2>
          <EditGoal project={props.project} goal={g} />
        </section>
      )}

      <GoalGraph project={props.project} goalId={g.id} />

      <section className="panel" aria-labelledby="tasks-heading">
        <h2 id="tasks-heading">Tasks</h2>
        {tasks.error && <p className="error">{tasks.error.message}</p>}
        {tasks.data?.length === 0 && <p className="muted">No tasks yet.</p>}
        {tasks.data && tasks.data.length > 0 && (
          <table>
            <thead>
              <tr>
                <th>Task</th>
                <th>Status</th>
                <th>Priority</th>
                <th>Scope</th>
                <th>Holder</th>
                <th>Lease expires</th>
                {props.canOperate && <th />}
              </tr>
            </thead>
            <tbody>
              {tasks.data.map((task) => (
                <tr key={task.id} aria-label={`Task ${task.title}`}>
                  <td>
                    <Link href={`/projects/${props.project}/tasks/${task.id}`}>
                      {task.title}
                    </Link>
                  </td>
                  <td>{statusLabels[task.status]}</td>
                  <td>{task.priority}</td>
                  <td>
                    <code>{task.scope.join(", ")}</code>
                  </td>
                  <td>{task.holder?.name ?? ""}</td>
                  <td>{clock(task.leaseExpiresAt)}</td>
                  {props.canOperate && (
                    <td>
                      <TaskActions task={task} />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {props.canOperate && g.status !== "done" && (
          <NewTask project={props.project} goalId={g.id} />
        )}
      </section>
    </>
  );
}

/** The goal's plans, newest version first, each linking to its review. */
function Plans(props: { project: string; goalId: string }) {
  const trpc = useTRPC();
  const plans = useQuery(
    trpc.orchestration.plans.list.queryOptions(
      { goalId: props.goalId },
      { refetchInterval: 2_000 },
    ),
  );

  return (
    <section className="panel" aria-labelledby="plans-heading">
      <h2 id="plans-heading">Plans</h2>
      {plans.error && <p className="error">{plans.error.message}</p>}
      {plans.data?.length === 0 && (
        <p className="muted">
          No plans yet. Agents submit them to{" "}
          <code>POST /api/agent/v1/goals/{props.goalId}/plans</code>.
        </p>
      )}
      {plans.data && plans.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Plan</th>
              <th>Status</th>
              <th>Author</th>
              <th>Tasks</th>
              <th>Estimate</th>
              <th>Submitted</th>
            </tr>
          </thead>
          <tbody>
            {plans.data.map((plan) => (
              <tr key={plan.id} aria-label={`Plan v${plan.version}`}>
                <td>
                  <Link href={`/projects/${props.project}/plans/${plan.id}`}>
                    Plan v{plan.version}
                  </Link>
                </td>
                <td>
                  <span className={`badge ${planBadges[plan.status]}`}>
                    {planStatusLabels[plan.status]}
                  </span>
                </td>
                <td>{plan.author.label}</td>
                <td>{plan.taskCount}</td>
                <td>{usd(plan.estimateTotalUsd)}</td>
                <td>{formatTime(plan.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function budgetLasts(forecast: GoalView["forecast"]): string {
  const parts: string[] = [];
  for (const [days, unit] of [
    [forecast.daysUntilUsdBudget, "USD"],
    [forecast.daysUntilTokenBudget, "tokens"],
  ] as const) {
    if (days === 0) parts.push(`${unit}: used up`);
    else if (days !== null) parts.push(`${unit}: ${days} more days`);
  }

  return parts.length > 0
    ? parts.join("; ")
    : "no budget runs out at this rate";
}

/** The success criteria as a checklist; operators tick lines off. */
function Criteria(props: { goal: Goal; canOperate: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tick = useMutation(
    trpc.orchestration.goals.setCriterion.mutationOptions({
      // The answer is the goal as it now stands: shown at once, no refetch.
      onSuccess: (goal) => {
        queryClient.setQueryData(
          trpc.orchestration.goals.get.queryKey({ goalId: goal.id }),
          goal,
        );
        void queryClient.invalidateQueries(
          trpc.orchestration.goals.list.pathFilter(),
        );
      },
    }),
  );
  // Ticks on their way to the server, shown at once; a refused one falls
  // back to what the server holds.
  const [asked, setAsked] = useState<Record<number, boolean>>({});
  const criteria = props.goal.successCriteria;
  const met = criteria.filter((c) => c.done).length;

  function toggle(index: number, text: string, done: boolean) {
    setAsked((current) => ({ ...current, [index]: done }));
    tick.mutate(
      { goalId: props.goal.id, index, text, done },
      {
        onSettled: () =>
          setAsked((current) => {
            const { [index]: _settled, ...rest } = current;

            return rest;
          }),
      },
    );
  }

  return (
    <>
      <h3>
        Success criteria{" "}
        {criteria.length > 0 && (
          <span className="muted">
            ({met} of {criteria.length} met)
          </span>
        )}
      </h3>
      {criteria.length === 0 ? (
        <p className="muted">
          No success criteria yet
          {props.canOperate ? "; add them in the settings below." : "."}
        </p>
      ) : (
        <ul
          aria-label="Success criteria"
          style={{ listStyle: "none", padding: 0 }}
        >
          {criteria.map((criterion, index) => (
            <li key={`${index}:${criterion.text}`}>
              <label style={{ flexDirection: "row", alignItems: "center" }}>
                <input
                  type="checkbox"
                  checked={asked[index] ?? criterion.done}
                  disabled={!props.canOperate || index in asked}
                  onChange={(event) =>
                    toggle(index, criterion.text, event.currentTarget.checked)
                  }
                />
                <span
                  style={
                    criterion.done
                      ? { textDecoration: "line-through" }
                      : undefined
                  }
                >
                  {criterion.text}
                </span>
              </label>
            </li>
          ))}
        </ul>
      )}
      {tick.error && <p className="error">{tick.error.message}</p>}
    </>
  );
}

function EditGoal(props: { project: string; goal: Goal }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const update = useMutation(
    trpc.orchestration.goals.update.mutationOptions({
      onSuccess: () =>
        queryClient.invalidateQueries(trpc.orchestration.goals.pathFilter()),
    }),
  );
  const errors = fieldErrors(update.error);
  const problem = formError(update.error);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const status = String(form.get("status"));
    update.mutate({
      goalId: props.goal.id,
      title: String(form.get("title") ?? ""),
      description: String(form.get("description") ?? ""),
      ...readGoalFields(form, props.goal.successCriteria),
      status:
        status === "paused" || status === "done" || status === "draft"
          ? status
          : "active",
      requiresPlanApproval: form.get("requiresPlanApproval") === "on",
    });
  }

  return (
    <form
      key={props.goal.updatedAt.toString()}
      className="stack"
      onSubmit={submit}
      noValidate
      aria-label="Edit goal"
    >
      <label>
        Title
        <input name="title" defaultValue={props.goal.title} />
        {errors.title && <span className="field-error">{errors.title}</span>}
      </label>
      <label>
        Description
        <textarea
          name="description"
          rows={3}
          defaultValue={props.goal.description}
        />
        {errors.description && (
          <span className="field-error">{errors.description}</span>
        )}
      </label>
      <GoalFields
        project={props.project}
        errors={errors}
        defaults={props.goal}
      />
      <label>
        Status
        <select name="status" defaultValue={props.goal.status}>
          <option value="draft">draft</option>
          <option value="active">active</option>
          <option value="paused">paused</option>
          <option value="done">done</option>
        </select>
      </label>
      <label style={{ flexDirection: "row", alignItems: "center" }}>
        <input
          type="checkbox"
          name="requiresPlanApproval"
          defaultChecked={props.goal.requiresPlanApproval}
        />
        Plans need an operator&apos;s approval
      </label>
      {problem && <p className="error">{problem}</p>}
      {update.isSuccess && !update.isPending && (
        <p className="muted" role="status">
          Saved.
        </p>
      )}
      <div>
        <button type="submit" disabled={update.isPending}>
          Save goal
        </button>
      </div>
    </form>
  );
}

function NewTask(props: { project: string; goalId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const create = useMutation(
    trpc.orchestration.tasks.create.mutationOptions({
      onSuccess: () =>
        Promise.all([
          queryClient.invalidateQueries(
            trpc.orchestration.tasks.list.pathFilter(),
          ),
          queryClient.invalidateQueries(trpc.orchestration.goals.pathFilter()),
        ]),
    }),
  );
  const errors = fieldErrors(create.error);
  const problem = formError(create.error);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const priority = String(form.get("priority") ?? "").trim();
    create.mutate(
      {
        goalId: props.goalId,
        title: String(form.get("title") ?? ""),
        description: String(form.get("description") ?? ""),
        priority: priority === "" ? 0 : Number(priority),
        // One glob per line or separated by commas.
        scope: String(form.get("scope") ?? "")
          .split(/[\n,]/)
          .map((glob) => glob.trim())
          .filter((glob) => glob !== ""),
        estimateUsd: usdField(form.get("estimateUsd")),
      },
      { onSuccess: () => formElement.reset() },
    );
  }

  return (
    <form
      className="stack"
      onSubmit={submit}
      noValidate
      aria-label="New task"
      style={{ marginTop: "1rem" }}
    >
      <h3 style={{ margin: 0 }}>New task</h3>
      <label>
        Task title
        <input name="title" aria-invalid={!!errors.title} />
        {errors.title && <span className="field-error">{errors.title}</span>}
      </label>
      <label>
        Task description
        <textarea name="description" rows={2} />
      </label>
      <label>
        Priority
        <input name="priority" inputMode="numeric" placeholder="0" />
        {errors.priority && (
          <span className="field-error">{errors.priority}</span>
        )}
      </label>
      <label>
        Scope (path globs, one per line)
        <textarea name="scope" rows={2} placeholder="src/api/**" />
        {Object.entries(errors)
          .filter(([path]) => path.startsWith("scope"))
          .map(([path, message]) => (
            <span key={path} className="field-error">
              {message}
            </span>
          ))}
      </label>
      <label>
        Estimate in USD (optional)
        <input name="estimateUsd" inputMode="decimal" />
        {errors.estimateUsd && (
          <span className="field-error">{errors.estimateUsd}</span>
        )}
      </label>
      {problem && <p className="error">{problem}</p>}
      <div>
        <button type="submit" disabled={create.isPending}>
          Add task
        </button>
      </div>
    </form>
  );
}
