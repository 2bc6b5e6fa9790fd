import { AccountShell } from "@/components/auth-shell";
import { requirePageActor } from "@/server/api/page-auth";
import { OPENAPI_PATH, openApiDocument } from "@/server/api/openapi";

// The API reference, rendered from the same OpenAPI document agents and
// code generators fetch, so the page and the API cannot disagree.

type Schema = {
  type?: string | string[];
  enum?: unknown[];
  format?: string;
  description?: string;
  default?: unknown;
  items?: Schema;
  anyOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  $ref?: string;
};

interface Parameter {
  name: string;
  in: string;
  required: boolean;
  schema: Schema;
}

interface Operation {
  operationId: string;
  summary: string;
  tags: string[];
  security: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { description: string }>;
}

function typeOf(schema: Schema): string {
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(" | ");
  if (schema.type === "array" && schema.items) {
    return `${typeOf(schema.items)}[]`;
  }
  const type = Array.isArray(schema.type)
    ? schema.type.join(" | ")
    : schema.type;

  return [type ?? "any", schema.format].filter(Boolean).join(" ");
}

function Fields(props: { rows: [string, Schema, boolean][] }) {
  if (props.rows.length === 0) return null;

  return (
    <table>
      <thead>
        <tr>
          <th>field</th>
          <th>type</th>
          <th>required</th>
          <th>default</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map(([name, schema, required]) => (
          <tr key={name}>
            <td>
              <code>{name}</code>
            </td>
            <td>{typeOf(schema)}</td>
            <td>{required ? "yes" : "no"}</td>
            <td>
              {schema.default === undefined
                ? ""
                : JSON.stringify(schema.default)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export default async function ApiReferencePage() {
  const actor = await requirePageActor();
  const document = openApiDocument();
  const schemas = document.components.schemas as Record<string, Schema>;
  const operations = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item as Record<string, Operation>).map(
      ([method, operation]) => ({ path, method, operation }),
    ),
  );

  return (
    <AccountShell email={actor.email}>
      <h1>API reference</h1>
      <p className="muted">
        Agents call <code>/api/agent/v1</code> with an agent token; people read{" "}
        <code>/api/v1</code> with a personal access token, both as{" "}
        <code>Authorization: Bearer flt_…</code>. Errors are{" "}
        <code>{"{ error: { code, message, details } }"}</code>. The OpenAPI 3.1
        document is at <a href={OPENAPI_PATH}>{OPENAPI_PATH}</a>; the typed
        client is in <code>client/</code>.
      </p>
      {operations.map(({ path, method, operation }) => {
        const bodyRef = Object.values(operation.requestBody?.content ?? {})[0]
          ?.schema.$ref;
        const body = bodyRef ? schemas[bodyRef.split("/").pop() ?? ""] : null;
        const required = new Set(body?.required ?? []);
        const auth = operation.security.flatMap(Object.keys).join(", ");

        return (
          <section
            className="panel"
            key={`${method} ${path}`}
            id={operation.operationId}
          >
            <h2>
              <span className="badge muted">{method.toUpperCase()}</span>{" "}
              <code>{path}</code>
            </h2>
            <p>
              {operation.summary}{" "}
              <span className="muted">
                ({auth ? `bearer: ${auth}` : "no token needed"})
              </span>
            </p>
            <Fields
              rows={(operation.parameters ?? []).map((p) => [
                `${p.name} (${p.in})`,
                p.schema,
                p.required,
              ])}
            />
            {body?.properties ? (
              <>
                <h3>Request body</h3>
                <Fields
                  rows={Object.entries(body.properties).map(([name, s]) => [
                    name,
                    s,
                    required.has(name),
                  ])}
                />
              </>
            ) : null}
            <p className="muted">
              Answers:{" "}
              {Object.entries(operation.responses).map(([status, answer]) => (
                <span key={status} title={answer.description}>
                  {status}{" "}
                </span>
              ))}
              (hover a status for its meaning)
            </p>
          </section>
        );
      })}
    </AccountShell>
  );
}
