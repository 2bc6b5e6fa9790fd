"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "./trpc";

// How many of the signed-in person's notifications in the project are
// unread, beside the Notifications link; nothing when none are.
export function NotificationsBadge(props: { project: string }) {
  const trpc = useTRPC();
  const count = useQuery({
    ...trpc.notifications.unreadCount.queryOptions({ project: props.project }),
    refetchInterval: 30_000,
  });
  const unread = count.data?.unread ?? 0;
  if (unread === 0) return null;

  return (
    <span
      className="badge danger"
      aria-label={`${unread} unread`}
      data-testid="notifications-badge"
    >
      {unread}
    </span>
  );
}
