"use client";

import Link from "next/link";

// Shown when a console page fails to render: most often because the
// database is unreachable. The message is generic; details are in the
// server log.
export default function ConsoleError(props: {
  error: Error & { digest?: string };
  reset: () => void;
}) {
  return (
    <main className="center-card">
      <div className="panel">
        <h1>Something went wrong</h1>
        <p>
          This page could not be shown. If the database is restarting, try again
          in a few seconds.
        </p>
        {props.error.digest && (
          <p className="muted">
            Reference for the server log: <code>{props.error.digest}</code>
          </p>
        )}
        <p className="row">
          <button type="button" onClick={() => props.reset()}>
            Try again
          </button>
          <Link href="/projects">Back to the projects list</Link>
        </p>
      </div>
    </main>
  );
}
