"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { formatTime } from "@/components/forms";
import { useTRPC } from "@/components/trpc";

const PAGE = 20;

const severityBadge: Record<string, string> = {
  critical: "badge danger",
  warning: "badge warn",
  info: "badge muted",
};

const kindLabels: Record<string, string> = {
  budget_threshold: "Budget threshold",
  budget_exhausted: "Budget exhausted",
  red_flag: "Red flag",
  task_failing: "Task failing",
  lease_expiring: "Lease expiring",
  approval_waiting: "Approval waiting",
};

type Scope = "project" | "all";

export function NotificationsInbox(props: { project: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [scope, setScope] = useState<Scope>("project");
  const [unreadOnly, setUnreadOnly] = useState(false);
  const [offset, setOffset] = useState(0);
  const where = scope === "project" ? { project: props.project } : {};
  const list = useQuery(
    trpc.notifications.list.queryOptions({
      ...where,
      unreadOnly,
      limit: PAGE,
      offset,
    }),
  );
  // Reading changes the list and the nav badge, nothing else.
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({
        queryKey: trpc.notifications.list.queryKey(),
      }),
      queryClient.invalidateQueries({
        queryKey: trpc.notifications.unreadCount.queryKey(),
      }),
    ]);
  const markRead = useMutation(
    trpc.notifications.markRead.mutationOptions({ onSuccess: refresh }),
  );
  const markAll = useMutation(
    trpc.notifications.markAllRead.mutationOptions({ onSuccess: refresh }),
  );
  const data = list.data;

  return (
    <section className="panel" aria-label="Notifications">
      <div className="row" role="group" aria-label="Show">
        {(["project", "all"] as const).map((value) => (
          <button
            key={value}
            type="button"
            aria-pressed={scope === value}
            className={scope === value ? undefined : "secondary"}
            onClick={() => {
              setScope(value);
              setOffset(0);
            }}
          >
            {value === "project" ? "This project" : "All projects"}
          </button>
        ))}
        <label>
          <input
            type="checkbox"
            checked={unreadOnly}
            onChange={(event) => {
              setUnreadOnly(event.target.checked);
              setOffset(0);
            }}
          />
          Unread only
        </label>
        <button
          type="button"
          className="secondary"
          disabled={markAll.isPending || (data?.unread ?? 0) === 0}
          onClick={() => markAll.mutate(where)}
        >
          Mark all read
        </button>
      </div>
      {list.isPending && <p className="muted">Loading notifications…</p>}
      {list.error && <p className="error">{list.error.message}</p>}
      {data && data.items.length === 0 && (
        <p className="muted">
          {unreadOnly ? "Nothing unread." : "No notifications yet."}
        </p>
      )}
      {data && data.items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Severity</th>
              <th>Notification</th>
              {scope === "all" && <th>Project</th>}
              <th>When</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((item) => {
              const unread = item.readAt === null;
              const read = () => {
                if (unread) markRead.mutate({ ...where, ids: [item.id] });
              };

              return (
                <tr
                  key={item.id}
                  data-notification={item.id}
                  data-unread={unread ? "true" : "false"}
                  style={unread ? { fontWeight: 600 } : undefined}
                >
                  <td>
                    <span className={severityBadge[item.severity] ?? "badge"}>
                      {item.severity}
                    </span>
                  </td>
                  <td>
                    <div>
                      {item.link ? (
                        <Link href={item.link} onClick={read}>
                          {item.title}
                        </Link>
                      ) : (
                        item.title
                      )}
                    </div>
                    <div className="muted" style={{ fontWeight: 400 }}>
                      {kindLabels[item.kind] ?? item.kind}
                      {item.body ? ` · ${item.body}` : ""}
                    </div>
                  </td>
                  {scope === "all" && <td>{item.projectName}</td>}
                  <td>{formatTime(item.createdAt)}</td>
                  <td>
                    {unread ? (
                      <button
                        type="button"
                        className="secondary"
                        aria-label={`Mark ${item.title} read`}
                        disabled={markRead.isPending}
                        onClick={read}
                      >
                        Mark read
                      </button>
                    ) : (
                      <span className="muted">
                        read {formatTime(item.readAt)}
                      </span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {data && data.total > PAGE && (
        <div className="row" aria-label="Pages">
          <button
            type="button"
            className="secondary"
            disabled={offset === 0}
            onClick={() => setOffset(Math.max(0, offset - PAGE))}
          >
            Newer
          </button>
          <span className="muted">
            {offset + 1}–{Math.min(offset + PAGE, data.total)} of {data.total}
          </span>
          <button
            type="button"
            className="secondary"
            disabled={offset + PAGE >= data.total}
            onClick={() => setOffset(offset + PAGE)}
          >
            Older
          </button>
        </div>
      )}
      {(markRead.error || markAll.error) && (
        <p className="error" role="alert">
          {(markRead.error ?? markAll.error)?.message}
        </p>
      )}
    </section>
  );
}
