import { AccountShell } from "@/components/auth-shell";
import { requirePageActor } from "@/server/api/page-auth";
import { PersonalTokensPanel } from "./personal-tokens-panel";

export default async function PersonalTokensPage() {
  const actor = await requirePageActor();

  return (
    <AccountShell email={actor.email}>
      <h1>Personal access tokens</h1>
      <p className="muted">
        A personal token lets scripts act as you through the HTTP API, with your
        roles in each project: create agents and goals (as{" "}
        <code>flotilla simulate</code> does), read spend and session timelines,
        and export the audit log. Send it as{" "}
        <code>Authorization: Bearer flt_…</code>.
      </p>
      <PersonalTokensPanel />
    </AccountShell>
  );
}
