"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc";
import { effectiveDay, usdPerMillion } from "./price-format";

// The price table kept in the repository: each family's pattern, its rates
// and the day each took effect. Older prices of a family stay listed, as
// events from before a change are priced at them.

export function PriceTablePanel(props: { project: string }) {
  const trpc = useTRPC();
  const prices = useQuery(
    trpc.observability.prices.list.queryOptions({ project: props.project }),
  );
  const data = prices.data;

  return (
    <section className="panel" aria-labelledby="price-table-heading">
      <h2 id="price-table-heading">Built-in prices</h2>
      {data && (
        <p className="muted">
          USD per million tokens, checked against the providers&apos; pricing
          pages on {data.tableCheckedOn}. A model id takes the first family
          whose pattern matches it; the project&apos;s own prices above come
          first.
        </p>
      )}
      {prices.isPending && <p className="muted">Loading prices…</p>}
      {prices.error && <p className="error">{prices.error.message}</p>}
      {data && (
        <table>
          <thead>
            <tr>
              <th>Family</th>
              <th>Pattern</th>
              <th>Input</th>
              <th>Output</th>
              <th>Cache read</th>
              <th>Cache write 5 min</th>
              <th>Cache write 1 h</th>
              <th>Effective from</th>
            </tr>
          </thead>
          <tbody>
            {data.table.map((row) => (
              <tr
                key={`${row.family}@${row.effectiveFrom}`}
                data-family={row.family}
              >
                <td>
                  {row.family} <span className="muted">{row.provider}</span>
                </td>
                <td>
                  <code>{row.pattern}</code>
                </td>
                <td>{usdPerMillion(row.input)}</td>
                <td>{usdPerMillion(row.output)}</td>
                <td>{usdPerMillion(row.cacheRead)}</td>
                <td>{usdPerMillion(row.cacheWrite5m)}</td>
                <td>{usdPerMillion(row.cacheWrite1h)}</td>
                <td>
                  {effectiveDay(`${row.effectiveFrom}T00:00:00Z`)}{" "}
                  {!row.current && (
                    <span className="badge muted">superseded</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
