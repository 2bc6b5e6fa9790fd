"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc";
import { clock } from "../goals/ui";

// Live path reservations of the project: which agent holds which globs
// outside its tasks, and until when. Polled like the board, so a new or
// released reservation shows within a few seconds.
export function Reservations(props: { project: string }) {
  const trpc = useTRPC();
  const reservations = useQuery(
    trpc.reservations.list.queryOptions(
      { project: props.project },
      { refetchInterval: 5_000 },
    ),
  );

  return (
    <section
      className="panel"
      aria-labelledby="reservations-heading"
      style={{ marginTop: "1rem" }}
    >
      <h2 id="reservations-heading">Reservations</h2>
      {reservations.error && (
        <p className="error">{reservations.error.message}</p>
      )}
      {reservations.data?.length === 0 && (
        <p className="muted">
          No agent holds paths outside its tasks right now.
        </p>
      )}
      {reservations.data && reservations.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Agent</th>
              <th>Globs</th>
              <th>Mode</th>
              <th>Reason</th>
              <th>Expires</th>
            </tr>
          </thead>
          <tbody>
            {reservations.data.map((reservation) => (
              <tr
                key={reservation.id}
                aria-label={`Reservation of ${reservation.agent.name}`}
              >
                <td>{reservation.agent.name}</td>
                <td>
                  <code>{reservation.globs.join(", ")}</code>
                </td>
                <td>
                  <span
                    className={`badge ${reservation.mode === "exclusive" ? "warn" : "muted"}`}
                  >
                    {reservation.mode}
                  </span>
                </td>
                <td>{reservation.reason}</td>
                <td>{clock(reservation.expiresAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
