import { usd } from "./ui";

// How a goal's status, progress, due date and spend read, on the goal
// pages and the project's home page (server and client components alike).

export function goalBadge(status: string): string {
  if (status === "active") return "badge ok";

  return `badge ${status === "draft" ? "warn" : "muted"}`;
}

export function dateOnly(value: Date | string | null | undefined): string {
  if (!value) return "";
  const date = value instanceof Date ? value : new Date(value);

  return date.toISOString().slice(0, 10);
}

/** "3 of 5 tasks done" with a bar; cancelled tasks are not counted. */
export function GoalProgress(props: {
  title: string;
  progress: { done: number; total: number; percent: number | null };
}) {
  const { done, total, percent } = props.progress;
  if (total === 0) return <span className="muted">No tasks yet</span>;

  return (
    <span className="row" style={{ gap: "0.5rem", flexWrap: "nowrap" }}>
      <progress
        max={total}
        value={done}
        aria-label={`Progress of ${props.title}`}
      />
      <span style={{ whiteSpace: "nowrap" }}>
        {done}/{total} ({percent}%)
      </span>
    </span>
  );
}

export function tokensText(value: number): string {
  return value.toLocaleString("en-US");
}

/** Spend to date against each budget. */
export function spendText(goal: {
  spendUsd: number;
  budgetUsd: number | null;
  spendTokens: number;
  budgetTokens: number | null;
}): string {
  const dollars =
    goal.budgetUsd === null
      ? `${usd(goal.spendUsd)} (no budget)`
      : `${usd(goal.spendUsd)} of ${usd(goal.budgetUsd)}`;
  if (goal.budgetTokens === null) return dollars;

  return `${dollars}; ${tokensText(goal.spendTokens)} of ${tokensText(goal.budgetTokens)} tokens`;
}
