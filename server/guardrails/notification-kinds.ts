// What a notification can be about, and how urgent it is. One list serves
// notify(), the inbox and the webhook endpoints' kind filters.

export const notificationKinds = [
  "budget_threshold",
  "budget_exhausted",
  "red_flag",
  "task_failing",
  "lease_expiring",
  "approval_waiting",
] as const;
export type NotificationKind = (typeof notificationKinds)[number];

export const notificationSeverities = ["info", "warning", "critical"] as const;
export type NotificationSeverity = (typeof notificationSeverities)[number];
