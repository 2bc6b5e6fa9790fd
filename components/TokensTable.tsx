"use client";

import { formatTime } from "./forms";

// Tokens as people see them (prefix, state, dates; never the secret), with
// a Revoke button where the viewer may revoke.

const stateBadge = { active: "ok", expired: "muted", revoked: "danger" };

export interface TokenRow {
  id: string;
  prefix: string;
  name: string;
  agentName?: string | null;
  state: keyof typeof stateBadge;
  createdAt: Date | string;
  lastUsedAt: Date | string | null;
  expiresAt: Date | string | null;
}

export function TokensTable(props: {
  tokens: TokenRow[];
  showAgent?: boolean;
  canRevoke: boolean;
  revoking: boolean;
  onRevoke: (tokenId: string) => void;
}) {
  return (
    <table>
      <thead>
        <tr>
          <th>Prefix</th>
          <th>Name</th>
          {props.showAgent && <th>Agent</th>}
          <th>State</th>
          <th>Created</th>
          <th>Last used</th>
          <th>Expires</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {props.tokens.map((token) => (
          <tr key={token.id}>
            <td>
              <code>{token.prefix}…</code>
            </td>
            <td>{token.name}</td>
            {props.showAgent && <td>{token.agentName}</td>}
            <td>
              <span className={`badge ${stateBadge[token.state]}`}>
                {token.state}
              </span>
            </td>
            <td>{formatTime(token.createdAt)}</td>
            <td>{formatTime(token.lastUsedAt)}</td>
            <td>{token.expiresAt ? formatTime(token.expiresAt) : "—"}</td>
            <td>
              {props.canRevoke && token.state !== "revoked" && (
                <button
                  type="button"
                  className="danger"
                  aria-label={`Revoke ${token.prefix}`}
                  disabled={props.revoking}
                  onClick={() => props.onRevoke(token.id)}
                >
                  Revoke
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The fields every token form shares: a name, an optional expiry, the
 * form's error and its submit button. */
export function TokenFormFields(props: {
  namePlaceholder: string;
  errors: Record<string, string>;
  problem: string | null;
  pending: boolean;
}) {
  return (
    <>
      <label>
        Token name
        <input name="name" placeholder={props.namePlaceholder} />
        {props.errors.name && (
          <span className="field-error">{props.errors.name}</span>
        )}
      </label>
      <label>
        Expires in days
        <input
          name="expiresInDays"
          type="number"
          min={1}
          max={3650}
          placeholder="never"
        />
        {props.errors.expiresInDays && (
          <span className="field-error">{props.errors.expiresInDays}</span>
        )}
      </label>
      {props.problem && (
        <p className="error" role="alert">
          {props.problem}
        </p>
      )}
      <button type="submit" disabled={props.pending}>
        Create token
      </button>
    </>
  );
}
