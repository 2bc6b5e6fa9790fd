"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc";
import { dateOnly } from "./goal-display";
import { usdField } from "./ui";

// The goal form's fields, shared by "New goal" and the goal page's
// settings, and the small displays of progress and forecast.

export interface GoalFormValues {
  successCriteria?: { text: string; done: boolean }[];
  owner?: string | null;
  priority?: number;
  dueAt?: string | null;
  budgetUsd?: number | null;
  budgetTokens?: number | null;
  maxActiveTasks?: number | null;
}

interface GoalDefaults {
  successCriteria: { text: string; done: boolean }[];
  owner: { email: string } | null;
  priority: number;
  dueAt: Date | string | null;
  budgetUsd: number | null;
  budgetTokens: number | null;
  maxActiveTasks: number | null;
}

/** A whole number field: empty is null, anything else not a number is NaN
 * so validation names the field. */
function wholeNumber(value: FormDataEntryValue | null): number | null {
  const text = String(value ?? "").trim();
  if (text === "") return null;

  return /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
}

/** Reads the fields below from a submitted form. Criteria keep their tick
 * when their text is unchanged. */
export function readGoalFields(
  form: FormData,
  previous: { text: string; done: boolean }[] = [],
): GoalFormValues {
  const done = new Map(previous.map((c) => [c.text, c.done]));
  const criteria = String(form.get("successCriteria") ?? "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((text) => ({ text, done: done.get(text) ?? false }));
  const owner = String(form.get("owner") ?? "").trim();
  const due = String(form.get("dueAt") ?? "").trim();

  return {
    successCriteria: criteria,
    owner: owner === "" ? null : owner,
    priority: wholeNumber(form.get("priority")) ?? 0,
    dueAt: due === "" ? null : due,
    budgetUsd: usdField(form.get("budgetUsd")) ?? null,
    budgetTokens: wholeNumber(form.get("budgetTokens")),
    maxActiveTasks: wholeNumber(form.get("maxActiveTasks")),
  };
}

function FieldError(props: { errors: Record<string, string>; path: string }) {
  const messages = Object.entries(props.errors)
    .filter(
      ([path]) => path === props.path || path.startsWith(`${props.path}.`),
    )
    .map(([path, message]) => (
      <span key={path} className="field-error">
        {path === props.path ? message : `${path}: ${message}`}
      </span>
    ));

  return <>{messages}</>;
}

/** Criteria, owner, priority, due date, budgets and the concurrency cap. */
export function GoalFields(props: {
  project: string;
  errors: Record<string, string>;
  defaults?: GoalDefaults;
}) {
  const trpc = useTRPC();
  const members = useQuery(
    trpc.identity.members.list.queryOptions({ project: props.project }),
  );
  const d = props.defaults;
  const e = props.errors;
  // Creating, an empty field is simply left out; editing, it clears.
  const blank = d ? "empty for none" : "optional";

  return (
    <>
      <label>
        Success criteria (one per line)
        <textarea
          name="successCriteria"
          rows={3}
          placeholder={"p95 latency under 200 ms\nDocs updated"}
          defaultValue={d?.successCriteria.map((c) => c.text).join("\n")}
          aria-invalid={Object.keys(e).some((p) =>
            p.startsWith("successCriteria"),
          )}
        />
        <FieldError errors={e} path="successCriteria" />
      </label>
      <div className="row" style={{ alignItems: "flex-start" }}>
        <label>
          Owner (email)
          <input
            name="owner"
            list="goal-owner-options"
            defaultValue={d?.owner?.email ?? ""}
            aria-invalid={!!e.owner}
          />
          <datalist id="goal-owner-options">
            {members.data?.map((m) => (
              <option key={m.userId} value={m.email}>
                {m.name}
              </option>
            ))}
          </datalist>
          <FieldError errors={e} path="owner" />
        </label>
        <label>
          Priority
          <input
            name="priority"
            inputMode="numeric"
            placeholder="0"
            defaultValue={d?.priority ?? ""}
            aria-invalid={!!e.priority}
          />
          <FieldError errors={e} path="priority" />
        </label>
        <label>
          Due date
          <input
            name="dueAt"
            type="date"
            defaultValue={dateOnly(d?.dueAt)}
            aria-invalid={!!e.dueAt}
          />
          <FieldError errors={e} path="dueAt" />
        </label>
      </div>
      <div className="row" style={{ alignItems: "flex-start" }}>
        <label>
          Budget in USD ({blank})
          <input
            name="budgetUsd"
            inputMode="decimal"
            placeholder="e.g. 25"
            defaultValue={d?.budgetUsd ?? ""}
            aria-invalid={!!e.budgetUsd}
          />
          <FieldError errors={e} path="budgetUsd" />
        </label>
        <label>
          Budget in tokens ({blank})
          <input
            name="budgetTokens"
            inputMode="numeric"
            placeholder="e.g. 5000000"
            defaultValue={d?.budgetTokens ?? ""}
            aria-invalid={!!e.budgetTokens}
          />
          <FieldError errors={e} path="budgetTokens" />
        </label>
        <label>
          Most tasks held at once (empty for no limit)
          <input
            name="maxActiveTasks"
            inputMode="numeric"
            defaultValue={d?.maxActiveTasks ?? ""}
            aria-invalid={!!e.maxActiveTasks}
          />
          <FieldError errors={e} path="maxActiveTasks" />
        </label>
      </div>
    </>
  );
}
