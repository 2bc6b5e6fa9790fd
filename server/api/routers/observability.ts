import {
  getSession,
  listSessions,
  listSessionsInput,
  sessionDetailInput,
} from "@/server/observability/sessions";
import { projectSpend, spendInput } from "@/server/observability/spend";
import { projectProcedure, router } from "../trpc";

// Observability for the console: sessions, one session's events, and
// spend. The same domain functions serve the read API for people.

export const observabilityRouter = router({
  sessions: router({
    list: projectProcedure("viewer")
      .input(listSessionsInput)
      .query(({ ctx, input }) => listSessions(ctx.db, ctx.actor, input)),
    detail: projectProcedure("viewer")
      .input(sessionDetailInput)
      .query(({ ctx, input }) => getSession(ctx.db, ctx.actor, input)),
  }),

  spend: projectProcedure("viewer")
    .input(spendInput)
    .query(({ ctx, input }) => projectSpend(ctx.db, ctx.actor, input)),
});
