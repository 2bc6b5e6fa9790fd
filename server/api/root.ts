import { createCallerFactory, router } from "./trpc";
import { identityRouter } from "./routers/identity";
import { orchestrationRouter } from "./routers/orchestration";
import { contextRouter } from "./routers/context";
import { observabilityRouter } from "./routers/observability";
import { guardrailsRouter } from "./routers/guardrails";
import { reservationsRouter } from "./routers/reservations";
import { approvalsRouter } from "./routers/approvals";
import { notificationsRouter } from "./routers/notifications";

export const appRouter = router({
  identity: identityRouter,
  orchestration: orchestrationRouter,
  context: contextRouter,
  observability: observabilityRouter,
  guardrails: guardrailsRouter,
  reservations: reservationsRouter,
  approvals: approvalsRouter,
  notifications: notificationsRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
