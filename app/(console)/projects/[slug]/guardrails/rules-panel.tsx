"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { fieldErrors, formError } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import { ScopeFields, type Scope } from "./scope-fields";

type Role = "viewer" | "operator" | "admin";
type Kind = "tool" | "command" | "path";
type Decision = "allow" | "deny" | "ask";

const decisionBadge: Record<string, string> = {
  allow: "badge ok",
  ask: "badge warn",
  deny: "badge danger",
};

const patternHelp: Record<Kind, string> = {
  tool: "",
  command:
    "Words that must appear in this order within one command; * inside " +
    "a word matches anything.",
  path: "A glob on file paths; without a leading / it matches at any depth.",
};

export function RulesPanel(props: { project: string; role: Role }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const input = { project: props.project };
  const isAdmin = props.role === "admin";
  const rules = useQuery(trpc.guardrails.rules.list.queryOptions(input));
  const [scope, setScope] = useState<Scope>("project");
  const [kind, setKind] = useState<Kind>("command");
  const refresh = () =>
    queryClient.invalidateQueries({
      queryKey: trpc.guardrails.rules.list.queryKey(input),
    });
  const add = useMutation(
    trpc.guardrails.rules.add.mutationOptions({ onSuccess: refresh }),
  );
  const remove = useMutation(
    trpc.guardrails.rules.remove.mutationOptions({ onSuccess: refresh }),
  );
  const errors = fieldErrors(add.error);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const text = (name: string) => String(form.get(name) ?? "");
    add.mutate(
      {
        ...input,
        scope,
        kind,
        goal: scope === "goal" ? text("goal") : undefined,
        agent: scope === "agent" ? text("agent") : undefined,
        tool: text("tool"),
        pattern: kind === "tool" ? undefined : text("pattern"),
        decision: text("decision") as Decision,
        reason: text("reason"),
      },
      { onSuccess: () => formElement.reset() },
    );
  }

  return (
    <section className="panel" aria-labelledby="rules-heading">
      <h2 id="rules-heading">Tool, command and path rules</h2>
      <p className="muted">
        Checked on every Claude Code PreToolUse call. Where rules conflict the
        narrower one wins (agent, then goal, then project); within one scope
        deny beats ask beats allow.
      </p>
      {rules.isPending && <p className="muted">Loading rules…</p>}
      {rules.error && <p className="error">{rules.error.message}</p>}
      {rules.data?.length === 0 && (
        <p className="muted">No rules: every tool call is allowed.</p>
      )}
      {rules.data && rules.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Applies to</th>
              <th>Rule</th>
              <th>Decision</th>
              <th>Reason</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rules.data.map((rule) => (
              <tr key={rule.id} data-rule={rule.id}>
                <td>
                  {rule.scope === "project" && "Project"}
                  {rule.scope === "goal" && `Goal: ${rule.goalTitle ?? "?"}`}
                  {rule.scope === "agent" && `Agent: ${rule.agentName ?? "?"}`}
                </td>
                <td>{rule.description}</td>
                <td>
                  <span className={decisionBadge[rule.decision] ?? "badge"}>
                    {rule.decision}
                  </span>
                </td>
                <td>{rule.reason || <span className="muted">none</span>}</td>
                <td>
                  {isAdmin && (
                    <button
                      type="button"
                      className="secondary"
                      aria-label={`Remove rule ${rule.description}`}
                      disabled={remove.isPending}
                      onClick={() => remove.mutate({ ...input, rule: rule.id })}
                    >
                      Remove
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
      {isAdmin && (
        <form className="stack" onSubmit={submit} style={{ marginTop: "1rem" }}>
          <h3>Add a rule</h3>
          <ScopeFields
            project={props.project}
            scope={scope}
            setScope={setScope}
            errors={errors}
          />
          <label>
            Kind
            <select
              name="kind"
              value={kind}
              onChange={(event) => setKind(event.target.value as Kind)}
            >
              <option value="command">Command pattern</option>
              <option value="path">Path glob</option>
              <option value="tool">Whole tool</option>
            </select>
          </label>
          <label>
            Tool (name or glob)
            <input name="tool" required defaultValue="*" placeholder="Bash" />
            {errors.tool && <span className="field-error">{errors.tool}</span>}
          </label>
          {kind !== "tool" && (
            <label>
              {kind === "path" ? "Path glob" : "Command pattern"}
              <input
                name="pattern"
                aria-describedby="pattern-help"
                placeholder={
                  kind === "path" ? "migrations/**" : "git push --force"
                }
              />
              {errors.pattern && (
                <span className="field-error">{errors.pattern}</span>
              )}
            </label>
          )}
          {kind !== "tool" && (
            <span id="pattern-help" className="muted">
              {patternHelp[kind]}
            </span>
          )}
          <label>
            Decision
            <select name="decision" defaultValue="ask">
              <option value="ask">Ask a person</option>
              <option value="deny">Deny</option>
              <option value="allow">Allow</option>
            </select>
          </label>
          <label>
            Reason (shown to the agent or the person asked)
            <input name="reason" placeholder="history is shared" />
            {errors.reason && (
              <span className="field-error">{errors.reason}</span>
            )}
          </label>
          {formError(add.error) && (
            <p className="error" role="alert">
              {formError(add.error)}
            </p>
          )}
          <button type="submit" disabled={add.isPending}>
            Add rule
          </button>
        </form>
      )}
    </section>
  );
}
