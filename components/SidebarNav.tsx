"use client";

import { usePathname } from "next/navigation";
import { useEffect, useId, useState, type ReactNode } from "react";

// The console's navigation frame. On a wide screen it is the dark sidebar
// with every link showing; on a phone (see .sidebar in app/globals.css) it
// is a bar across the top whose links fold away behind a Menu button, so
// the page itself gets the whole width of the screen.
export function SidebarNav(props: { label: string; children: ReactNode }) {
  const [open, setOpen] = useState(false);
  const pathname = usePathname();
  const linksId = useId();

  // Following a link closes the menu, so the page it opens is in view.
  useEffect(() => {
    setOpen(false);
  }, [pathname]);

  return (
    <nav className="sidebar" aria-label={props.label}>
      <div className="sidebar-inner">
        <div className="sidebar-top">
          <div className="brand">Flotilla</div>
          <button
            type="button"
            className="menu-toggle secondary"
            aria-expanded={open}
            aria-controls={linksId}
            onClick={() => setOpen((was) => !was)}
          >
            {open ? "Close menu" : "Menu"}
          </button>
        </div>
        <div id={linksId} className="sidebar-links" data-open={open}>
          {props.children}
        </div>
      </div>
    </nav>
  );
}
