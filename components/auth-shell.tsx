import Link from "next/link";
import type { ReactNode } from "react";
import { SignOutButton } from "./auth-sign-out";
import { SidebarNav } from "./SidebarNav";

// The frame of pages outside a project: the projects list and settings.
export function AccountShell(props: { email: string; children: ReactNode }) {
  return (
    <div className="shell">
      <SidebarNav label="Account">
        <Link href="/projects">Projects</Link>
        <Link href="/settings/tokens">Personal tokens</Link>
        <Link href="/api-reference">API reference</Link>
        <div className="section-label">You</div>
        <div className="muted" style={{ padding: "0.4rem 0.6rem" }}>
          {props.email}
        </div>
        <SignOutButton />
      </SidebarNav>
      <main className="main">{props.children}</main>
    </div>
  );
}
