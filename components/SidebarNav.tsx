"use client";

import { usePathname } from "next/navigation";
import { useEffect, useId, useRef, useState, type ReactNode } from "react";

// The console's navigation frame. On a wide screen it is the dark sidebar
// with every link showing; on a phone (see .sidebar in app/globals.css) it
// is a bar across the top whose links fold away behind a Menu button, so
// the page itself gets the whole width of the screen.
export function SidebarNav(props: { label: string; children: ReactNode }) {
  const [open, setOpen] = useState(false);
  const pathname = usePathname();
  const linksId = useId();

  const toggle = useRef<HTMLButtonElement>(null);

  // Following a link closes the menu, so the page it opens is in view.
  useEffect(() => {
    setOpen(false);
  }, [pathname]);

  // So does Escape, handing the focus back to the Menu button.
  useEffect(() => {
    if (!open) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== "Escape") return;
      setOpen(false);
      toggle.current?.focus();
    };
    document.addEventListener("keydown", onKey);

    return () => document.removeEventListener("keydown", onKey);
  }, [open]);

  return (
    <nav className="sidebar" aria-label={props.label}>
      <div className="sidebar-inner">
        <div className="sidebar-top">
          <div className="brand">Flotilla</div>
          <button
            ref={toggle}
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
