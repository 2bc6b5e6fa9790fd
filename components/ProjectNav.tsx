"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { SignOutButton } from "./auth-sign-out";
import { ApprovalsBadge } from "./ApprovalsBadge";
import { EscalationsBadge } from "./EscalationsBadge";
import { NotificationsBadge } from "./NotificationsBadge";
import { SidebarNav } from "./SidebarNav";

const links = [
  { href: "", label: "Overview" },
  { href: "/goals", label: "Goals" },
  { href: "/board", label: "Board" },
  { href: "/sessions", label: "Sessions" },
  { href: "/spend", label: "Spend" },
  { href: "/prices", label: "Prices" },
  { href: "/context", label: "Context" },
  { href: "/guardrails", label: "Guardrails" },
  { href: "/agents", label: "Agents & tokens" },
  { href: "/approvals", label: "Approvals" },
  { href: "/escalations", label: "Escalations" },
  { href: "/notifications", label: "Notifications" },
  { href: "/audit", label: "Audit log" },
  { href: "/settings", label: "Settings" },
];

export function ProjectNav(props: {
  slug: string;
  name: string;
  role: string;
  email: string;
}) {
  const pathname = usePathname();
  const base = `/projects/${props.slug}`;

  return (
    <SidebarNav label="Project">
      <Link href="/projects">All projects</Link>
      <div className="section-label">{props.name}</div>
      {links.map((link) => {
        const href = base + link.href;
        const current =
          link.href === "" ? pathname === base : pathname.startsWith(href);

        return (
          <Link
            key={href}
            href={href}
            aria-current={current ? "page" : undefined}
          >
            {link.label}
            {link.href === "/approvals" && (
              <>
                {" "}
                <ApprovalsBadge project={props.slug} />
              </>
            )}
            {link.href === "/escalations" && (
              <>
                {" "}
                <EscalationsBadge project={props.slug} />
              </>
            )}
            {link.href === "/notifications" && (
              <>
                {" "}
                <NotificationsBadge project={props.slug} />
              </>
            )}
          </Link>
        );
      })}
      <div className="section-label">You</div>
      <Link href="/settings/tokens">Personal tokens</Link>
      <Link href="/api-reference">API reference</Link>
      <div className="muted" style={{ padding: "0.4rem 0.6rem" }}>
        {props.email} · {props.role}
      </div>
      <SignOutButton />
    </SidebarNav>
  );
}
