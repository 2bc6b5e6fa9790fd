import { createCallerFactory, router } from "./trpc";
import { identityRouter } from "./routers/identity";
import { orchestrationRouter } from "./routers/orchestration";
import { contextRouter } from "./routers/context";
import { observabilityRouter } from "./routers/observability";
import { guardrailsRouter } from "./routers/guardrails";

export const appRouter = router({
  identity: identityRouter,
  orchestration: orchestrationRouter,
  context: contextRouter,
  observability: observabilityRouter,
  guardrails: guardrailsRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
