"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { fieldErrors, formError, formatTime } from "@/components/forms";
import { useTRPC } from "@/components/trpc";

// Outbound webhooks (admins only): the endpoints, a form to add one (its
// secret is shown once), recent deliveries and the dead-letter list.

const kinds = [
  ["budget_threshold", "Budget threshold"],
  ["budget_exhausted", "Budget exhausted"],
  ["red_flag", "Critical red flag"],
  ["task_failing", "Task failing"],
  ["lease_expiring", "Lease expiring"],
  ["approval_waiting", "Approval waiting"],
] as const;
type Kind = (typeof kinds)[number][0];

const statusBadge: Record<string, string> = {
  delivered: "badge ok",
  pending: "badge warn",
  dead: "badge danger",
};

export function WebhooksPanel(props: { project: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const input = { project: props.project };
  const endpoints = useQuery(
    trpc.notifications.webhooks.list.queryOptions(input),
  );
  const recent = useQuery(
    trpc.notifications.webhooks.deliveries.queryOptions({
      ...input,
      limit: 20,
    }),
  );
  const dead = useQuery(
    trpc.notifications.webhooks.deliveries.queryOptions({
      ...input,
      status: "dead",
    }),
  );
  const [secret, setSecret] = useState<string | null>(null);
  const [tested, setTested] = useState<Record<string, string>>({});
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({
        queryKey: trpc.notifications.webhooks.list.queryKey(input),
      }),
      queryClient.invalidateQueries({
        queryKey: trpc.notifications.webhooks.deliveries.queryKey(),
      }),
    ]);
  const create = useMutation(
    trpc.notifications.webhooks.create.mutationOptions({
      onSuccess: async (made) => {
        setSecret(made.secret);
        await refresh();
      },
    }),
  );
  const update = useMutation(
    trpc.notifications.webhooks.update.mutationOptions({ onSuccess: refresh }),
  );
  const remove = useMutation(
    trpc.notifications.webhooks.remove.mutationOptions({ onSuccess: refresh }),
  );
  const retry = useMutation(
    trpc.notifications.webhooks.retry.mutationOptions({ onSuccess: refresh }),
  );
  const test = useMutation(
    trpc.notifications.webhooks.test.mutationOptions({
      onSuccess: (outcome, variables) =>
        setTested((before) => ({
          ...before,
          [variables.endpoint]: outcome.ok
            ? `Delivered (${outcome.status})`
            : `Failed: ${outcome.error}`,
        })),
    }),
  );
  const errors = fieldErrors(create.error);
  const actionError = update.error ?? remove.error ?? retry.error ?? test.error;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const given = String(form.get("secret") ?? "").trim();
    setSecret(null);
    create.mutate(
      {
        ...input,
        url: String(form.get("url") ?? ""),
        secret: given === "" ? undefined : given,
        kinds: form.getAll("kinds").map(String) as Kind[],
      },
      { onSuccess: () => formElement.reset() },
    );
  }

  return (
    <section className="panel" aria-labelledby="webhooks-heading">
      <h2 id="webhooks-heading">Webhooks</h2>
      <p className="muted">
        Each notification of a subscribed kind is POSTed as JSON, signed in
        X-Flotilla-Signature (HMAC-SHA256 of the body with the endpoint&apos;s
        secret). Failures are retried after 10 s, 30 s, 2 min, 10 min and 1 h;
        after six attempts a delivery is dead and listed below.
      </p>
      {endpoints.error && <p className="error">{endpoints.error.message}</p>}
      {endpoints.data?.length === 0 && (
        <p className="muted">No endpoints: notifications stay in the inbox.</p>
      )}
      {endpoints.data && endpoints.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>URL</th>
              <th>Kinds</th>
              <th>Queue</th>
              <th>Active</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {endpoints.data.map((endpoint) => (
              <tr key={endpoint.id} data-endpoint={endpoint.id}>
                <td>
                  <code>{endpoint.url}</code>
                  {tested[endpoint.id] && (
                    <div className="muted" role="status">
                      Test: {tested[endpoint.id]}
                    </div>
                  )}
                </td>
                <td>
                  {endpoint.kinds.length === 0
                    ? "all"
                    : endpoint.kinds.join(", ")}
                </td>
                <td>
                  {endpoint.pending} pending, {endpoint.dead} dead
                  <div className="muted">
                    last delivered {formatTime(endpoint.lastDeliveredAt)}
                  </div>
                </td>
                <td>
                  <label>
                    <input
                      type="checkbox"
                      checked={endpoint.active}
                      disabled={update.isPending}
                      onChange={(event) =>
                        update.mutate({
                          ...input,
                          endpoint: endpoint.id,
                          active: event.target.checked,
                        })
                      }
                    />
                    {endpoint.active ? "on" : "off"}
                  </label>
                </td>
                <td className="row">
                  <button
                    type="button"
                    className="secondary"
                    disabled={test.isPending}
                    onClick={() =>
                      test.mutate({ ...input, endpoint: endpoint.id })
                    }
                  >
                    Send test
                  </button>
                  <button
                    type="button"
                    className="danger"
                    aria-label={`Remove webhook ${endpoint.url}`}
                    disabled={remove.isPending}
                    onClick={() =>
                      remove.mutate({ ...input, endpoint: endpoint.id })
                    }
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {actionError && (
        <p className="error" role="alert">
          {actionError.message}
        </p>
      )}
      {secret && (
        <div className="panel" role="status" aria-label="New webhook secret">
          <strong>Copy the signing secret now; it is not shown again:</strong>
          <pre data-testid="webhook-secret">{secret}</pre>
        </div>
      )}
      <form className="stack" onSubmit={submit} style={{ marginTop: "1rem" }}>
        <h3>Add an endpoint</h3>
        <label>
          URL
          <input
            name="url"
            type="url"
            placeholder="https://example.com/hooks/flotilla"
            required
          />
          {errors.url && <span className="field-error">{errors.url}</span>}
        </label>
        <label>
          Secret (leave empty to have Flotilla generate one)
          <input name="secret" type="text" autoComplete="off" />
          {errors.secret && (
            <span className="field-error">{errors.secret}</span>
          )}
        </label>
        <fieldset>
          <legend>Kinds (none ticked sends every kind)</legend>
          {kinds.map(([value, label]) => (
            <label key={value}>
              <input type="checkbox" name="kinds" value={value} />
              {label}
            </label>
          ))}
        </fieldset>
        {formError(create.error) && (
          <p className="error" role="alert">
            {formError(create.error)}
          </p>
        )}
        <button type="submit" disabled={create.isPending}>
          Add endpoint
        </button>
      </form>

      <h3>Dead letters</h3>
      {dead.data?.length === 0 && <p className="muted">No dead deliveries.</p>}
      {dead.data && dead.data.length > 0 && (
        <table aria-label="Dead letters">
          <tbody>
            {dead.data.map((delivery) => (
              <tr key={delivery.id} data-delivery={delivery.id}>
                <td>{delivery.title}</td>
                <td>
                  <code>{delivery.url}</code>
                </td>
                <td>
                  {delivery.attempts} attempts; {delivery.lastError ?? "?"}
                </td>
                <td>
                  <button
                    type="button"
                    disabled={retry.isPending}
                    onClick={() =>
                      retry.mutate({ ...input, delivery: delivery.id })
                    }
                  >
                    Retry
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h3>Recent deliveries</h3>
      {recent.data?.length === 0 && <p className="muted">Nothing sent yet.</p>}
      {recent.data && recent.data.length > 0 && (
        <table aria-label="Recent deliveries">
          <thead>
            <tr>
              <th>Notification</th>
              <th>Endpoint</th>
              <th>Status</th>
              <th>Attempts</th>
              <th>Last answer</th>
              <th>Next attempt</th>
            </tr>
          </thead>
          <tbody>
            {recent.data.map((delivery) => (
              <tr key={delivery.id}>
                <td>{delivery.title}</td>
                <td>
                  <code>{delivery.url}</code>
                </td>
                <td>
                  <span className={statusBadge[delivery.status] ?? "badge"}>
                    {delivery.status}
                  </span>
                </td>
                <td>{delivery.attempts}</td>
                <td>
                  {delivery.lastStatus ?? ""} {delivery.lastError ?? ""}
                </td>
                <td>
                  {delivery.status === "pending"
                    ? formatTime(delivery.nextAttemptAt)
                    : ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
