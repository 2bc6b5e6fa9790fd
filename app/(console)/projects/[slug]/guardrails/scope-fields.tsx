"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc";

// The "Applies to" part of the add forms for budgets and guardrail rules:
// the whole project, one goal or one agent, with a picker for the goal or
// agent. Shown to admins only, so the goal and agent lists load with it.

export type Scope = "project" | "goal" | "agent";

export function ScopeFields(props: {
  project: string;
  scope: Scope;
  setScope: (scope: Scope) => void;
  errors: Record<string, string>;
}) {
  const trpc = useTRPC();
  const input = { project: props.project };
  const goals = useQuery(trpc.orchestration.goals.list.queryOptions(input));
  const agents = useQuery(trpc.identity.agents.list.queryOptions(input));
  const { scope, errors } = props;

  return (
    <>
      <label>
        Applies to
        <select
          name="scope"
          value={scope}
          onChange={(event) => props.setScope(event.target.value as Scope)}
        >
          <option value="project">The whole project</option>
          <option value="goal">One goal</option>
          <option value="agent">One agent</option>
        </select>
      </label>
      {scope === "goal" && (
        <label>
          Goal
          <select name="goal" defaultValue="">
            <option value="" disabled>
              Choose a goal
            </option>
            {goals.data?.map((goal) => (
              <option key={goal.id} value={goal.id}>
                {goal.title}
              </option>
            ))}
          </select>
          {errors.goal && <span className="field-error">{errors.goal}</span>}
        </label>
      )}
      {scope === "agent" && (
        <label>
          Agent
          <select name="agent" defaultValue="">
            <option value="" disabled>
              Choose an agent
            </option>
            {agents.data?.map((agent) => (
              <option key={agent.id} value={agent.id}>
                {agent.name}
              </option>
            ))}
          </select>
          {errors.agent && <span className="field-error">{errors.agent}</span>}
        </label>
      )}
    </>
  );
}
