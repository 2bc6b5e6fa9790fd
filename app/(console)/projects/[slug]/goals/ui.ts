// Small pieces the goals pages and the board share.

import { formatUsd } from "@/components/charts/format";

export const statusLabels = {
  draft: "Draft",
  ready: "Ready",
  claimed: "Claimed",
  in_progress: "In progress",
  in_review: "In review",
  blocked: "Blocked",
  done: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
} as const;

export const planStatusLabels = {
  submitted: "Awaiting review",
  approved: "Approved",
  rejected: "Rejected",
  changes_requested: "Changes requested",
} as const;

export const planBadges = {
  submitted: "warn",
  approved: "ok",
  rejected: "danger",
  changes_requested: "muted",
} as const;

export type TaskStatusName = keyof typeof statusLabels;

export function usd(value: number): string {
  return formatUsd(value);
}

/** A form's optional dollar field: empty means none; anything that is not
 * a number is sent as NaN so validation names the field. */
export function usdField(value: FormDataEntryValue | null): number | undefined {
  const text = String(value ?? "").trim();
  if (text === "") return undefined;

  return Number(text);
}

/** Time of day in UTC with seconds: lease expiries are minutes away. */
export function clock(value: Date | string | null): string {
  if (!value) return "";
  const date = value instanceof Date ? value : new Date(value);

  return `${date.toISOString().slice(11, 19)} UTC`;
}
