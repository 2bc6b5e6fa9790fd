"use client";

import Link from "next/link";
import {
  keepPreviousData,
  useInfiniteQuery,
  useQuery,
} from "@tanstack/react-query";
import { usePathname, useSearchParams } from "next/navigation";
import {
  formatCount,
  formatUsd,
  formatUsdExact,
  formatUtc,
} from "@/components/charts/format";
import { fieldErrors, formError, selectCap } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import { builtInRules, flagSeverities } from "@/server/observability/flags";
import { grades } from "@/server/observability/grade";
import type { SessionFilters } from "@/server/observability/sessions";

// The sessions list. Its filters live in the URL query so a reload or a
// shared link shows the same list; it polls every two seconds, so a new
// session or new totals show without a reload, and loads older sessions
// a page at a time.

const filterKeys = [
  "agent",
  "goal",
  "task",
  "flag",
  "severity",
  "grade",
  "minCost",
  "maxCost",
  "from",
  "to",
] as const;
type FilterKey = (typeof filterKeys)[number];
type Filters = Record<FilterKey, string>;

const PAGE_SIZE = 50;

function useListFilters() {
  const pathname = usePathname();
  const params = useSearchParams();
  const filters = Object.fromEntries(
    filterKeys.map((key) => [key, params.get(key) ?? ""]),
  ) as Filters;
  const setFilter = (key: FilterKey, value: string) => {
    const next = new URLSearchParams(params.toString());
    if (value) next.set(key, value);
    else next.delete(key);
    const query = next.toString();
    window.history.replaceState(
      null,
      "",
      query ? `${pathname}?${query}` : pathname,
    );
  };
  const clear = () => window.history.replaceState(null, "", pathname);

  return { filters, setFilter, clear };
}

// Times in the URL are the UTC minutes a datetime-local field shows.
function utc(local: string): string | undefined {
  return local ? `${local}:00Z` : undefined;
}

function toInput(filters: Filters): SessionFilters {
  return {
    agent: filters.agent || undefined,
    goal: filters.goal || undefined,
    task: filters.task || undefined,
    flagged: filters.flag === "any" ? true : undefined,
    flagRule: filters.flag && filters.flag !== "any" ? filters.flag : undefined,
    minSeverity: (filters.severity ||
      undefined) as SessionFilters["minSeverity"],
    grade: (filters.grade || undefined) as SessionFilters["grade"],
    minCost: filters.minCost || undefined,
    maxCost: filters.maxCost || undefined,
    from: utc(filters.from),
    to: utc(filters.to),
  };
}

/** The filters' own checks, the server's messages: while one fails no
 * request is sent and the rows of the last good filters stay. */
function filterErrors(filters: Filters): Record<string, string> {
  const out: Record<string, string> = {};
  const cost = (key: "minCost" | "maxCost") => {
    const text = filters[key].trim();
    if (!text) return undefined;
    const value = Number(text);
    if (!Number.isFinite(value)) out[key] = "Must be a number of US dollars";
    else if (value < 0) out[key] = "Must be 0 or more";
    else if (value > 1e12) out[key] = "Must be at most 1e12";
    else return value;

    return undefined;
  };
  const min = cost("minCost");
  const max = cost("maxCost");
  if (min !== undefined && max !== undefined && min > max) {
    out.maxCost = "Must be at least the minimum cost";
  }
  // datetime-local values of one format compare as text.
  if (filters.from && filters.to && filters.from >= filters.to) {
    out.to = "Must be after the start of the range";
  }

  return out;
}

const gradeBadge: Record<string, string> = {
  A: "badge ok",
  B: "badge ok",
  C: "badge warn",
  D: "badge danger",
  F: "badge danger",
};

const severityBadge: Record<string, string> = {
  critical: "badge danger",
  high: "badge danger",
  medium: "badge warn",
  low: "badge muted",
};

function GradeCell(props: { grade: string | null; reasons: string[] }) {
  if (!props.grade) return <span className="muted">not graded</span>;

  return (
    // The reasons open over the rows below (a popover), so the table keeps
    // its column widths.
    <details style={{ position: "relative" }}>
      <summary title={props.reasons.join("\n")}>
        <span className={gradeBadge[props.grade] ?? "badge"}>
          {props.grade}
        </span>
      </summary>
      <ul
        style={{
          position: "absolute",
          right: 0,
          top: "100%",
          zIndex: 5,
          width: "max-content",
          maxWidth: "24rem",
          margin: "0.25rem 0 0",
          padding: "0.5rem 0.75rem 0.5rem 1.5rem",
          background: "var(--panel)",
          border: "1px solid var(--border)",
          borderRadius: 6,
          boxShadow: "0 4px 12px rgb(0 0 0 / 0.15)",
        }}
      >
        {props.reasons.map((reason) => (
          <li key={reason}>{reason}</li>
        ))}
      </ul>
    </details>
  );
}

function FlagsCell(props: { counts: Record<string, number> }) {
  const present = [...flagSeverities]
    .reverse()
    .filter((severity) => (props.counts[severity] ?? 0) > 0);
  if (present.length === 0) return <>0</>;

  return (
    <span className="row" style={{ gap: "0.25rem" }}>
      {present.map((severity) => (
        <span
          key={severity}
          className={severityBadge[severity]}
          style={{ whiteSpace: "nowrap" }}
          title={`Red flags of severity ${severity}`}
        >
          {props.counts[severity]} {severity}
        </span>
      ))}
    </span>
  );
}

export function SessionsList(props: { project: string }) {
  const trpc = useTRPC();
  const { filters, setFilter, clear } = useListFilters();
  const project = { project: props.project };
  const agents = useQuery(trpc.identity.agents.list.queryOptions(project));
  const goals = useQuery(trpc.orchestration.goals.list.queryOptions(project));
  const tasks = useQuery(
    trpc.orchestration.tasks.list.queryOptions({
      ...project,
      goalId: filters.goal || undefined,
    }),
  );
  const customRules = useQuery(
    trpc.observability.flagRules.list.queryOptions(project),
  );
  const invalid = filterErrors(filters);
  const valid = Object.keys(invalid).length === 0;
  const list = useInfiniteQuery(
    trpc.observability.sessions.list.infiniteQueryOptions(
      { ...project, ...toInput(filters), limit: PAGE_SIZE },
      {
        enabled: valid,
        getNextPageParam: (page) => page.nextCursor,
        refetchInterval: 2_000,
        retry: false,
        // The rows stay while the rows for new filters load.
        placeholderData: keepPreviousData,
      },
    ),
  );
  const errors = { ...fieldErrors(list.error), ...invalid };
  const seen = new Set<string>();
  // A session that moved up while older pages were loaded shows once.
  const sessions = (list.isError ? [] : (list.data?.pages ?? []))
    .flatMap((page) => page.sessions)
    .filter((s) => (seen.has(s.id) ? false : (seen.add(s.id), true)));
  const filtered = filterKeys.some((key) => filters[key] !== "");

  const field = (key: FilterKey) => ({
    value: filters[key],
    onChange: (event: { target: { value: string } }) =>
      setFilter(key, event.target.value),
  });
  const error = (key: string) =>
    errors[key] ? <span className="field-error">{errors[key]}</span> : null;

  return (
    <>
      <form
        className="row"
        aria-label="Filter sessions"
        style={{ marginBottom: "1rem", alignItems: "flex-end", gap: "0.75rem" }}
        onSubmit={(event) => event.preventDefault()}
      >
        <label>
          Agent
          <select {...field("agent")} style={selectCap}>
            <option value="">All agents</option>
            {agents.data?.map((agent) => (
              <option key={agent.id} value={agent.id}>
                {agent.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Goal
          <select
            {...field("goal")}
            style={selectCap}
            title={goals.data?.find((g) => g.id === filters.goal)?.title}
          >
            <option value="">All goals</option>
            {goals.data?.map((goal) => (
              <option key={goal.id} value={goal.id}>
                {goal.title}
              </option>
            ))}
          </select>
          {error("goal")}
        </label>
        <label>
          Task
          <select
            {...field("task")}
            style={selectCap}
            title={tasks.data?.find((t) => t.id === filters.task)?.title}
          >
            <option value="">All tasks</option>
            {tasks.data?.map((task) => (
              <option key={task.id} value={task.id}>
                {task.title}
              </option>
            ))}
          </select>
          {error("task")}
        </label>
        <label>
          Flag
          <select {...field("flag")}>
            <option value="">Any or none</option>
            <option value="any">Any red flag</option>
            <optgroup label="Built-in rules">
              {builtInRules.map(({ rule }) => (
                <option key={rule} value={rule}>
                  {rule}
                </option>
              ))}
            </optgroup>
            {(customRules.data?.length ?? 0) > 0 && (
              <optgroup label="Project rules">
                {customRules.data?.map((rule) => (
                  <option key={rule.id} value={rule.ruleId}>
                    {rule.ruleId}
                  </option>
                ))}
              </optgroup>
            )}
          </select>
        </label>
        <label>
          Severity at least
          <select {...field("severity")}>
            <option value="">Any</option>
            {flagSeverities.map((severity) => (
              <option key={severity} value={severity}>
                {severity}
              </option>
            ))}
          </select>
        </label>
        <label>
          Grade
          <select {...field("grade")}>
            <option value="">Any</option>
            {grades.map((grade) => (
              <option key={grade} value={grade}>
                {grade}
              </option>
            ))}
            <option value="ungraded">Not graded</option>
          </select>
        </label>
        <label>
          Cost from ($)
          <input
            type="number"
            min={0}
            step="0.01"
            style={{ width: "7rem" }}
            {...field("minCost")}
          />
          {error("minCost")}
        </label>
        <label>
          Cost to ($)
          <input
            type="number"
            min={0}
            step="0.01"
            style={{ width: "7rem" }}
            {...field("maxCost")}
          />
          {error("maxCost")}
        </label>
        <label>
          Active from (UTC)
          <input type="datetime-local" {...field("from")} />
          {error("from")}
        </label>
        <label>
          Active until (UTC)
          <input type="datetime-local" {...field("to")} />
          {error("to")}
        </label>
        {filtered && (
          <button type="button" className="secondary" onClick={clear}>
            Clear filters
          </button>
        )}
      </form>

      {list.isPending && valid && <p className="muted">Loading sessions…</p>}
      {formError(list.error) && (
        <p className="error" role="alert">
          {formError(list.error)}
        </p>
      )}
      {list.data && !list.isError && valid && sessions.length === 0 && (
        <p className="muted">
          {filtered
            ? "No session matches these filters."
            : "No sessions yet. Agents report through Claude Code hooks, " +
              "OTLP or native event batches."}
        </p>
      )}
      {sessions.length > 0 && (
        <table aria-label="Sessions">
          <thead>
            <tr>
              <th>Session</th>
              <th>Agent</th>
              <th>Source</th>
              <th>Last event</th>
              <th>Events</th>
              <th>Errors</th>
              <th>Flags</th>
              <th>Grade</th>
              <th>Cost</th>
            </tr>
          </thead>
          <tbody>
            {sessions.map((s) => (
              <tr key={s.id} data-session={s.externalId}>
                <td>
                  <Link href={`/projects/${props.project}/sessions/${s.id}`}>
                    {s.title ?? s.externalId}
                  </Link>
                  {s.title ? (
                    <div className="muted">
                      <code>{s.externalId}</code>
                    </div>
                  ) : null}
                </td>
                <td>{s.agentName}</td>
                <td>
                  <span className="badge muted">{s.source}</span>
                </td>
                <td>{formatUtc(s.lastEventAt)}</td>
                <td>{formatCount(s.eventCount)}</td>
                <td>
                  {s.errorCount > 0 ? (
                    <span className="badge danger">{s.errorCount}</span>
                  ) : (
                    "0"
                  )}
                </td>
                <td>
                  <FlagsCell counts={s.flagsBySeverity} />
                </td>
                <td>
                  <GradeCell grade={s.grade} reasons={s.gradeReasons} />
                </td>
                <td
                  title={
                    s.priced ? formatUsdExact(s.costUsd) : "No priced events"
                  }
                >
                  {s.priced ? formatUsd(s.costUsd) : "—"}
                  {s.unpricedCount > 0 ? (
                    <>
                      {" "}
                      <span
                        className="badge warn"
                        title="Events for models missing from the price table"
                      >
                        + {s.unpricedCount} unpriced
                      </span>
                    </>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.hasNextPage && (
        <button
          type="button"
          className="secondary"
          style={{ marginTop: "1rem" }}
          disabled={list.isFetchingNextPage}
          onClick={() => list.fetchNextPage()}
        >
          {list.isFetchingNextPage ? "Loading…" : "Load older sessions"}
        </button>
      )}
    </>
  );
}
