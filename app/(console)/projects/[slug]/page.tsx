import Link from "next/link";
import type { ReactNode } from "react";
import { formatTime } from "@/components/forms";
import { requirePageProject } from "@/server/api/page-auth";
import { operatorHome, type OperatorHome } from "@/server/identity/overview";
import {
  dateOnly,
  goalBadge,
  GoalProgress,
  spendText,
} from "./goals/goal-display";
import { clock } from "./goals/ui";
import { HomeRefresh } from "./home-refresh";
import { formatUsd } from "@/components/charts/format";

// The project's home: what needs a person now (approvals, blocked work and
// escalations, budgets, red flags), then how the fleet and the goals stand.
// Every item links to the page where it is acted on.

export default async function ProjectHomePage(props: {
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await props.params;
  const { db, actor } = await requirePageProject(slug);
  const home = await operatorHome(db, actor, { project: slug });
  const base = `/projects/${home.project.slug}`;

  return (
    <>
      <div className="row">
        <h1 style={{ margin: 0 }}>{home.project.name}</h1>
        <span className="muted">You are {home.role} in this project.</span>
        <HomeRefresh seconds={10} />
      </div>
      {home.pause.paused && (
        <section
          className="panel"
          role="alert"
          aria-label="Project paused"
          style={{ borderColor: "#b91c1c", background: "#fef2f2" }}
        >
          <strong>The project is paused.</strong> Every claim and tool call is
          refused: {home.pause.reason}
          <div className="muted">
            Paused by {home.pause.pausedBy}
            {home.pause.pausedAt
              ? ` at ${formatTime(home.pause.pausedAt)}`
              : ""}
            .{" "}
            <Link href={`${base}/guardrails`}>
              Resume on the guardrails page
            </Link>
          </div>
        </section>
      )}
      <h2 className="muted" style={{ fontSize: "1rem" }}>
        What needs you now
      </h2>
      <Approvals home={home} base={base} />
      <BlockedWork home={home} base={base} />
      <BudgetAlerts home={home} base={base} />
      <RedFlags home={home} base={base} />
      <Fleet home={home} base={base} />
      <Goals home={home} base={base} />
    </>
  );
}

interface SectionProps {
  home: OperatorHome;
  base: string;
}

function Section(props: {
  id: string;
  title: string;
  count: number;
  urgent?: boolean;
  link: { href: string; label: string };
  empty: string;
  children: ReactNode;
}) {
  return (
    <section className="panel" aria-labelledby={`${props.id}-heading`}>
      <div className="row">
        <h2 id={`${props.id}-heading`} style={{ margin: 0 }}>
          {props.title}
        </h2>
        <span
          className={`badge ${props.count > 0 && props.urgent ? "warn" : "muted"}`}
          aria-label={`${props.count} ${props.title.toLowerCase()}`}
        >
          {props.count}
        </span>
        <Link href={props.link.href}>{props.link.label}</Link>
      </div>
      {props.count === 0 ? (
        <p className="muted">{props.empty}</p>
      ) : (
        props.children
      )}
    </section>
  );
}

function More(props: { shown: number; count: number; href: string }) {
  if (props.count <= props.shown) return null;

  return (
    <p>
      <Link href={props.href}>and {props.count - props.shown} more…</Link>
    </p>
  );
}

function Approvals({ home, base }: SectionProps) {
  const { count, items } = home.approvals;

  return (
    <Section
      id="approvals"
      title="Approvals waiting"
      count={count}
      urgent
      link={{ href: `${base}/approvals`, label: "Open approvals" }}
      empty="Nothing waiting for approval."
    >
      <ul>
        {items.map((item) => (
          <li key={item.id}>
            <Link
              href={
                item.planId
                  ? `${base}/plans/${item.planId}`
                  : `${base}/approvals`
              }
            >
              {item.title}
            </Link>{" "}
            <span className="badge muted">{item.kind.replace("_", " ")}</span>
            {item.requiredRole === "admin" && (
              <span className="badge warn">needs an admin</span>
            )}{" "}
            <span className="muted">
              {item.agentName ? `from ${item.agentName}, ` : ""}
              since {formatTime(item.requestedAt)}
              {item.expiresAt ? `; denied at ${clock(item.expiresAt)}` : ""}
            </span>
          </li>
        ))}
      </ul>
      <More shown={items.length} count={count} href={`${base}/approvals`} />
    </Section>
  );
}

function BlockedWork({ home, base }: SectionProps) {
  const blocked = home.blockedTasks;
  const open = home.escalations;

  return (
    <Section
      id="blocked"
      title="Blocked tasks and escalations"
      count={blocked.count + open.count}
      urgent
      link={{ href: `${base}/escalations`, label: "Open escalations" }}
      empty="Nothing blocked and no open escalations."
    >
      {open.count > 0 && (
        <>
          <h3>Open escalations ({open.count})</h3>
          <ul>
            {open.items.map((item) => (
              <li key={item.id}>
                <Link href={`${base}/escalations`}>
                  {item.kind.replace("_", " ")}
                </Link>
                {item.taskId && item.taskTitle && (
                  <>
                    {" on "}
                    <Link href={`${base}/tasks/${item.taskId}`}>
                      {item.taskTitle}
                    </Link>
                  </>
                )}
                : <span className="muted">{item.reason}</span>
              </li>
            ))}
          </ul>
          <More
            shown={open.items.length}
            count={open.count}
            href={`${base}/escalations`}
          />
        </>
      )}
      {blocked.count > 0 && (
        <>
          <h3>Blocked tasks ({blocked.count})</h3>
          <ul>
            {blocked.items.map((task) => (
              <li key={task.id}>
                <Link href={`${base}/tasks/${task.id}`}>{task.title}</Link>{" "}
                <span className="muted">
                  in {task.goalTitle}, since {formatTime(task.updatedAt)}
                </span>
              </li>
            ))}
          </ul>
          <More
            shown={blocked.items.length}
            count={blocked.count}
            href={`${base}/board`}
          />
        </>
      )}
    </Section>
  );
}

function amount(unit: string, value: number): string {
  return unit === "usd"
    ? formatUsd(value)
    : `${value.toLocaleString("en-US")} tokens`;
}

function BudgetAlerts({ home, base }: SectionProps) {
  const { count, items } = home.budgetAlerts;

  return (
    <Section
      id="budgets"
      title="Budget alerts"
      count={count}
      urgent
      link={{ href: `${base}/guardrails`, label: "Open budgets" }}
      empty="No budget alerts this period."
    >
      <ul>
        {items.map((item) => (
          <li key={`${item.budgetId}:${item.level}`}>
            <span
              className={`badge ${item.level === "hard" ? "danger" : "warn"}`}
            >
              {item.level === "hard" ? "spent" : "near limit"}
            </span>{" "}
            <Link
              href={
                item.budgetId.startsWith("goal:")
                  ? `${base}/goals/${item.budgetId.slice(5)}`
                  : `${base}/guardrails`
              }
            >
              {item.scope === "project"
                ? "Project budget"
                : `${item.scope === "goal" ? "Goal" : "Agent"} ${item.subject ?? ""}`}
            </Link>{" "}
            <span className="muted">
              {amount(item.unit, item.limit)}{" "}
              {item.period === "total" ? "in total" : `per ${item.period}`}
            </span>
          </li>
        ))}
      </ul>
    </Section>
  );
}

function RedFlags({ home, base }: SectionProps) {
  const { count, items } = home.redFlags;

  return (
    <Section
      id="flags"
      title="Red flags (last 24 h)"
      count={count}
      urgent
      link={{ href: `${base}/sessions`, label: "Open sessions" }}
      empty="No critical or high red flags in the last 24 hours."
    >
      <ul>
        {items.map((flag) => (
          <li key={flag.id}>
            <span
              className={`badge ${flag.severity === "critical" ? "danger" : "warn"}`}
            >
              {flag.severity}
            </span>{" "}
            <Link href={`${base}/sessions/${flag.sessionId}`}>{flag.rule}</Link>{" "}
            <span className="muted">
              by {flag.agentName} at {formatTime(flag.createdAt)}:{" "}
              <code>{flag.excerpt.slice(0, 80)}</code>
            </span>
          </li>
        ))}
      </ul>
      <More shown={items.length} count={count} href={`${base}/sessions`} />
    </Section>
  );
}

function Fleet({ home, base }: SectionProps) {
  const { presence, paused, inFlight, agents } = home.fleet;

  return (
    <Section
      id="fleet"
      title="Fleet"
      count={agents.length}
      link={{ href: `${base}/agents`, label: "Agents & tokens" }}
      empty="No agents yet. Create one on the agents page."
    >
      <p aria-label="Agent presence">
        <strong>{presence.online}</strong> online,{" "}
        <strong>{presence.idle}</strong> idle,{" "}
        <strong>{presence.offline}</strong> offline
        {paused > 0 ? `; ${paused} paused` : ""}.
      </p>
      <h3>Tasks in flight ({inFlight.count})</h3>
      {inFlight.count === 0 ? (
        <p className="muted">No task is held by an agent.</p>
      ) : (
        <table aria-label="Tasks in flight">
          <thead>
            <tr>
              <th>Task</th>
              <th>Agent</th>
              <th>Status</th>
              <th>Lease expires</th>
            </tr>
          </thead>
          <tbody>
            {inFlight.items.map((task) => (
              <tr key={task.id}>
                <td>
                  <Link href={`${base}/tasks/${task.id}`}>{task.title}</Link>
                </td>
                <td>{task.agentName ?? ""}</td>
                <td>{task.status.replace("_", " ")}</td>
                <td>{clock(task.leaseExpiresAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <More
        shown={inFlight.items.length}
        count={inFlight.count}
        href={`${base}/board`}
      />
    </Section>
  );
}

function Goals({ home, base }: SectionProps) {
  const { count, items } = home.goals;

  return (
    <Section
      id="goals"
      title="Goals"
      count={count}
      link={{ href: `${base}/goals`, label: "Open goals" }}
      empty="No open goals. Create one on the goals page."
    >
      <table aria-label="Open goals">
        <thead>
          <tr>
            <th>Goal</th>
            <th>Status</th>
            <th>Due</th>
            <th>Progress</th>
            <th>Spend</th>
            <th>Forecast</th>
          </tr>
        </thead>
        <tbody>
          {items.map((goal) => (
            <tr key={goal.id}>
              <td>
                <Link href={`${base}/goals/${goal.id}`}>{goal.title}</Link>
              </td>
              <td>
                <span className={goalBadge(goal.status)}>{goal.status}</span>
              </td>
              <td style={{ whiteSpace: "nowrap" }}>
                {dateOnly(goal.dueAt) || <span className="muted">none</span>}
              </td>
              <td>
                <GoalProgress title={goal.title} progress={goal.progress} />
              </td>
              <td>
                {spendText(goal)}
                {goal.overBudget && (
                  <>
                    {" "}
                    <span className="badge danger">Over budget</span>
                  </>
                )}
              </td>
              <td className="muted">{goal.forecast.summary}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <More shown={items.length} count={count} href={`${base}/goals`} />
    </Section>
  );
}
