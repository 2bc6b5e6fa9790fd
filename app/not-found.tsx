import Link from "next/link";

// Shown for an address no page answers, and for a project, session,
// plan, goal, task or document that does not exist (or is not in its
// project).
export default function NotFound() {
  return (
    <main className="center-card">
      <div className="panel">
        <h1>Page not found</h1>
        <p>
          This page does not exist. The address may be mistyped, or what it
          named may have been removed.
        </p>
        <p>
          <Link href="/projects">Back to the projects list</Link>
        </p>
      </div>
    </main>
  );
}
