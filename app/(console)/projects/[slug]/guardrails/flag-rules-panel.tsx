"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { fieldErrors, formError } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import { flagSeverities } from "@/server/observability/flags";

type Role = "viewer" | "operator" | "admin";
type Kind = "substring" | "path_glob";
type Severity = (typeof flagSeverities)[number];

const severityBadge: Record<string, string> = {
  critical: "badge danger",
  high: "badge danger",
  medium: "badge warn",
  low: "badge muted",
};

const kindLabels: Record<Kind, string> = {
  substring: "Text contains",
  path_glob: "Writes a path",
};

const patternHelp: Record<Kind, string> = {
  substring:
    "Matched anywhere in what an event sends or gets back, ignoring case.",
  path_glob:
    "A glob on the paths an event writes: ** crosses folders, * and ? " +
    "stay inside one; without a leading / it matches at any depth.",
};

// The project's own red flags, checked at ingest beside the built-in ones
// (secrets, destructive commands, sensitive files). Viewers and operators
// read them; admins add, switch off and delete them.
export function FlagRulesPanel(props: { project: string; role: Role }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const input = { project: props.project };
  const isAdmin = props.role === "admin";
  const rules = useQuery(trpc.observability.flagRules.list.queryOptions(input));
  const [kind, setKind] = useState<Kind>("substring");
  const refresh = () =>
    queryClient.invalidateQueries({
      queryKey: trpc.observability.flagRules.list.queryKey(input),
    });
  const create = useMutation(
    trpc.observability.flagRules.create.mutationOptions({ onSuccess: refresh }),
  );
  const update = useMutation(
    trpc.observability.flagRules.update.mutationOptions({ onSuccess: refresh }),
  );
  const remove = useMutation(
    trpc.observability.flagRules.delete.mutationOptions({ onSuccess: refresh }),
  );
  const errors = fieldErrors(create.error);
  const changeError = update.error ?? remove.error;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const text = (name: string) => String(form.get(name) ?? "");
    create.mutate(
      {
        ...input,
        name: text("name"),
        kind,
        pattern: text("pattern"),
        severity: text("severity") as Severity,
      },
      { onSuccess: () => formElement.reset() },
    );
  }

  return (
    <section className="panel" aria-labelledby="flag-rules-heading">
      <h2 id="flag-rules-heading">Red-flag rules</h2>
      <p className="muted">
        Checked on every event an agent reports, beside the built-in rules
        (secrets, destructive commands and queries, writes to env files,
        migrations and CI config). A flag is stored as custom.
        <i>name</i> with the rule&apos;s severity; secrets in its excerpt are
        masked. A critical flag grades the session F.
      </p>
      {rules.isPending && <p className="muted">Loading rules…</p>}
      {rules.error && <p className="error">{rules.error.message}</p>}
      {rules.data?.length === 0 && (
        <p className="muted">No project rules: only the built-in ones run.</p>
      )}
      {rules.data && rules.data.length > 0 && (
        <table aria-label="Red-flag rules">
          <thead>
            <tr>
              <th>Rule</th>
              <th>Matches</th>
              <th>Severity</th>
              <th>State</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rules.data.map((rule) => (
              <tr key={rule.id} data-flag-rule={rule.name}>
                <td>
                  <code>{rule.ruleId}</code>
                </td>
                <td>
                  {kindLabels[rule.kind]} <code>{rule.pattern}</code>
                </td>
                <td>
                  {isAdmin ? (
                    <select
                      aria-label={`Severity of ${rule.name}`}
                      value={rule.severity}
                      disabled={update.isPending}
                      onChange={(event) =>
                        update.mutate({
                          ...input,
                          rule: rule.id,
                          severity: event.target.value as Severity,
                        })
                      }
                    >
                      {flagSeverities.map((severity) => (
                        <option key={severity} value={severity}>
                          {severity}
                        </option>
                      ))}
                    </select>
                  ) : (
                    <span className={severityBadge[rule.severity] ?? "badge"}>
                      {rule.severity}
                    </span>
                  )}
                </td>
                <td>
                  {rule.enabled ? (
                    <span className="badge ok">on</span>
                  ) : (
                    <span className="badge muted">off</span>
                  )}
                </td>
                <td>
                  {isAdmin && (
                    <span className="row" style={{ gap: "0.5rem" }}>
                      <button
                        type="button"
                        className="secondary"
                        disabled={update.isPending}
                        onClick={() =>
                          update.mutate({
                            ...input,
                            rule: rule.id,
                            enabled: !rule.enabled,
                          })
                        }
                      >
                        {rule.enabled ? "Disable" : "Enable"}
                      </button>
                      <button
                        type="button"
                        className="danger"
                        aria-label={`Delete rule ${rule.name}`}
                        disabled={remove.isPending}
                        onClick={() =>
                          remove.mutate({ ...input, rule: rule.id })
                        }
                      >
                        Delete
                      </button>
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {changeError && (
        <p className="error" role="alert">
          {changeError.message}
        </p>
      )}
      {isAdmin && (
        <form className="stack" onSubmit={submit} style={{ marginTop: "1rem" }}>
          <h3>Add a red-flag rule</h3>
          <label>
            Name
            <input name="name" required placeholder="prod-database" />
            {errors.name && <span className="field-error">{errors.name}</span>}
          </label>
          <label>
            Kind
            <select
              name="kind"
              value={kind}
              onChange={(event) => setKind(event.target.value as Kind)}
            >
              <option value="substring">Text contains</option>
              <option value="path_glob">Writes a path (glob)</option>
            </select>
          </label>
          <label>
            {kind === "substring" ? "Text" : "Path glob"}
            <input
              name="pattern"
              required
              aria-describedby="flag-pattern-help"
              placeholder={
                kind === "substring"
                  ? "db.prod.internal"
                  : "services/billing/**"
              }
            />
            {errors.pattern && (
              <span className="field-error">{errors.pattern}</span>
            )}
          </label>
          <span id="flag-pattern-help" className="muted">
            {patternHelp[kind]}
          </span>
          <label>
            Severity
            <select name="severity" defaultValue="high">
              {flagSeverities.map((severity) => (
                <option key={severity} value={severity}>
                  {severity}
                </option>
              ))}
            </select>
          </label>
          {formError(create.error) && (
            <p className="error" role="alert">
              {formError(create.error)}
            </p>
          )}
          <button type="submit" disabled={create.isPending}>
            Add rule
          </button>
        </form>
      )}
    </section>
  );
}
